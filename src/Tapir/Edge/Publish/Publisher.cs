// `tapir edge publish TOPIC FILE` (DESIGN §1, §6.3): FILE's JSON signed with the data key as a
// flattened JWS (protected {"alg","kid"}, the format edm's events use), published once at QoS 1
// over mTLS to the broker of the enrollment answer (BrokerConnection), with client id
// `<node>-publish-<random>` and no session kept. Success is the PUBACK; a PUBACK with a refusal
// code (0x87 not authorized, for one) is an error naming the code. Topics holding `+`, `#` or
// NUL, and payloads that are not JSON, are refused before anything is sent.
using System.Security.Cryptography;
using MQTTnet;
using MQTTnet.Protocol;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;
using Tapir.Edge.Audit;

namespace Tapir.Edge.Publish;

public static class Publisher
{
    public const int MaxTopicBytes = 1024;

    public static bool IsPublishTopic(string topic) =>
        topic.Length > 0 && System.Text.Encoding.UTF8.GetByteCount(topic) <= MaxTopicBytes && topic.IndexOfAny(['+', '#', '\0']) < 0 && !topic.StartsWith('$');

    public static async Task<string> PublishAsync(EdgeState state, string topic, byte[] json, CancellationToken cancel)
    {
        if (!StrictJson.TryParse(json, out var doc, out var why))
        {
            throw new TapirException($"the message is not JSON ({why}); nothing was published.");
        }
        doc.Dispose();
        var settings = state.ReadMqtt();
        using var root = state.Root();
        using var identity = state.TlsIdentity();
        string jws = JwsSigner.Flattened(json, state.DataKey());
        var broker = new BrokerConnection(settings, root);
        using var client = new MqttClientFactory().CreateMqttClient();
        string clientId = $"{settings.Name}-publish-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        try
        {
            await client.ConnectAsync(broker.Options(identity, clientId, cleanStart: true, TimeSpan.Zero), cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancel.IsCancellationRequested)
        {
            throw new TapirException($"cannot connect to the broker {settings.Broker}: {broker.Describe(e)}");
        }
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(jws).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
        MqttClientPublishResult result;
        byte[] sent = System.Text.Encoding.UTF8.GetBytes(jws);
        try
        {
            result = await client.PublishAsync(message, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancel.IsCancellationRequested)
        {
            OutboundAudit.RecordMessage(state.Directory, topic, sent, settings.Name, $"no PUBACK: {broker.Describe(e)}");
            throw new TapirException($"no PUBACK from the broker {settings.Broker} for {topic}: {broker.Describe(e)}");
        }
        OutboundAudit.RecordMessage(state.Directory, topic, sent, settings.Name, $"PUBACK {result.ReasonCode} (0x{(int)result.ReasonCode:x2})");
        // The PUBACK is the answer; a broker that drops the connection before our DISCONNECT changes nothing.
        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), cancel).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        string code = $"{result.ReasonCode} (0x{(int)result.ReasonCode:x2}){(string.IsNullOrEmpty(result.ReasonString) ? "" : ": " + result.ReasonString)}";
        return result.IsSuccess ? $"published {jws.Length} bytes on {topic} as {settings.Name}: PUBACK {code}"
            : throw new TapirException($"the broker refused the message on {topic}: PUBACK {code}");
    }
}
