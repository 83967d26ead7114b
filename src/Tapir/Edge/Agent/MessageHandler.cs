// What the agent does with one received MQTT message (DESIGN §6.3–6.5): verify it against the
// trusted JWKS first and do nothing else with an unverified one (logged with the reason, counted);
// then by topic: the node's configuration topic and `config/down/<app>` are written by ConfigStore,
// `config/down/jwks` replaces the trusted JWKS, `observations/down/...` is logged as received.
// The payload itself is never logged. Each message is counted in EdgeMetrics: verified, or refused
// with a short reason (the Rejection name of a failed verification, `topic`, `not_json`, `not_jwks`).
using Tapir.Logging;
using Tapir.Metrics;
using Tapir.Security;
using Tapir.Security.Encoding;

namespace Tapir.Edge.Agent;

public sealed class MessageHandler(MqttSettings settings, TrustedKeys trust, ConfigStore store)
{
    private const string JwksTopic = "config/down/jwks";
    private long refused;
    private long accepted;

    public long Refused => Interlocked.Read(ref refused);

    public long Accepted => Interlocked.Read(ref accepted);

    public void Handle(string topic, byte[] message, DateTimeOffset now)
    {
        if (!trust.TryVerify(message, out var verified, out var why))
        {
            Refuse(topic, why.ToString(), $"not verified with the trusted JWKS: {why}");
            return;
        }
        string signer = verified.Message.Signatures[0].Kid ?? "?";
        if (topic == JwksTopic)
        {
            ReplaceJwks(verified.Payload, signer);
        }
        else if (AppOf(topic) is string app)
        {
            WriteConfig(app, topic, verified.Payload, message, signer, now);
        }
        else if (topic.StartsWith("observations/down/", StringComparison.Ordinal))
        {
            Accept();
            Log.Info($"observation on {topic}: verified (kid {signer}, {verified.Payload.Length} bytes)");
        }
        else
        {
            Refuse(topic, "topic", "not a topic the agent acts on");
        }
    }

    /// <summary>
    /// The configuration name a topic carries, or null: the last segment of the node's own topic, or
    /// &lt;app&gt; of config/down/&lt;app&gt; unless that is `jwks` or the node topic's name (so no two
    /// topics ever write the same file).
    /// </summary>
    public string? AppOf(string topic)
    {
        string own = settings.ConfigTopic.Split('/')[^1];
        if (topic == settings.ConfigTopic)
        {
            return ConfigStore.IsAppName(own) ? own : null;
        }
        string[] segments = topic.Split('/');
        bool broadcast = segments.Length == 3 && segments[0] == "config" && segments[1] == "down";
        return broadcast && ConfigStore.IsAppName(segments[2]) && segments[2] != "jwks" && segments[2] != own ? segments[2] : null;
    }

    private void ReplaceJwks(byte[] payload, string signer)
    {
        var before = trust.Current;
        if (!trust.TryReplace(payload, out var replaced, out var why))
        {
            Refuse(JwksTopic, "not_jwks", $"signed by trusted key {signer} but not a usable public JWKS: {why}");
            return;
        }
        Accept();
        Log.Info($"trusted JWKS replaced from {JwksTopic} (signed by {signer}): keys {TrustedKeys.Kids(replaced)}; before: {TrustedKeys.Kids(before)}");
    }

    private void WriteConfig(string app, string topic, byte[] payload, byte[] message, string signer, DateTimeOffset now)
    {
        if (!StrictJson.TryParse(payload, out var doc, out var why))
        {
            Refuse(topic, "not_json", $"signed by {signer} but the payload is not JSON: {why}");
            return;
        }
        doc.Dispose();
        string change = store.Write(app, topic, payload, message, now);
        Accept();
        EdgeMetrics.ConfigurationsWritten.Add(1);
        Log.Info($"configuration {app} from {topic} (signed by {signer}) written to {store.JsonPath(app)}: {change}");
    }

    private void Accept()
    {
        Interlocked.Increment(ref accepted);
        EdgeMetrics.Messages.Add(1, EdgeMetrics.Outcome("verified"));
    }

    private void Refuse(string topic, string label, string reason)
    {
        long count = Interlocked.Increment(ref refused);
        EdgeMetrics.Messages.Add(1, EdgeMetrics.Outcome("refused"), EdgeMetrics.Reason(label));
        Log.Warning($"message on {topic} ignored: {reason} ({count} refused so far)");
    }
}
