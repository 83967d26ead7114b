// The ingress half of ExternalBroker (core.mqtt_mode = "external"): each edge message the broker
// delivers is taken in arrival order (at most HeldBytesLimit held), checked by one loop (the ACL,
// IngressVerifier, and whether it still fits the broker's Maximum Packet Size under verified/),
// committed to the event log, then republished on verified/ and acknowledged by a second loop, one
// at a time in the same order. A refused message is acknowledged; one not taken, or whose
// connection is gone, is left for the broker to send again.
using System.Buffers;
using System.Text;
using System.Threading.Channels;
using MQTTnet;
using Tapir.Logging;
using Tapir.Metrics;
using Tapir.Storage;

namespace Tapir.Core.Mqtt;

public sealed partial class ExternalBroker
{
    /// <summary>Bytes of edge messages (topic and payload) the core holds at most: mosquitto 2.0.11 sends past the
    /// Receive Maximum, so without it one edge's large messages could hold gigabytes. A message that would go
    /// over is not taken (nor acknowledged), nor is any after it; once those held are done the core reconnects
    /// and the broker sends the rest again, in order.</summary>
    public const long HeldBytesLimit = 64L << 20;

    private readonly Channel<Incoming> incoming = Channel.CreateUnbounded<Incoming>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<Accepted> accepted = Channel.CreateUnbounded<Accepted>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private Task? checking;
    private Task? republishing;

    private long heldBytes; // topic and payload bytes of the messages being handled
    private int overflowed; // 1 from the first message not taken (HeldBytesLimit) until the next connection

    private readonly record struct Incoming(MqttApplicationMessageReceivedEventArgs Message, long Generation, long Bytes);

    private readonly record struct Accepted(MqttApplicationMessageReceivedEventArgs Message, long Generation, long Bytes, string Node, byte[] Payload, Task Stored);

    private Task Received(MqttApplicationMessageReceivedEventArgs e)
    {
        // Acknowledged once the message is committed and republished (or refused), by the loops below.
        e.AutoAcknowledge = false;
        long bytes = e.ApplicationMessage.Payload.Length + e.ApplicationMessage.Topic.Length;
        if (Volatile.Read(ref overflowed) != 0 || (Interlocked.Read(ref handling) > 0 && Interlocked.Read(ref heldBytes) + bytes > HeldBytesLimit))
        {
            if (Interlocked.CompareExchange(ref overflowed, 1, 0) == 0)
            {
                Log.Warning($"MQTT: {Interlocked.Read(ref handling)} edge messages ({Interlocked.Read(ref heldBytes)} bytes) held: taking no more until they are done, then reconnecting; the broker sends the rest again");
                ReconnectWhenDone(); // they may have been done meanwhile
            }
            return Task.CompletedTask; // not acknowledged: the broker sends it again on the next connection
        }
        Interlocked.Increment(ref handling);
        Interlocked.Add(ref heldBytes, bytes);
        if (!incoming.Writer.TryWrite(new Incoming(e, Interlocked.Read(ref generation), bytes)))
        {
            Done(bytes); // stopping: the broker sends it again on the next connection
        }
        return Task.CompletedTask;
    }

    /// <summary>One held message is done (acknowledged, refused, or left for the broker to send again).</summary>
    private void Done(long bytes)
    {
        Interlocked.Add(ref heldBytes, -bytes);
        Interlocked.Decrement(ref handling);
        ReconnectWhenDone();
    }

    /// <summary>After an overflow, once everything taken is done (once per connection: overflowed 1 → 2), the
    /// core reconnects so the broker sends what was not taken again.</summary>
    private void ReconnectWhenDone()
    {
        if (Interlocked.Read(ref handling) == 0 && !leaving && Interlocked.CompareExchange(ref overflowed, 2, 1) == 1)
        {
            _ = ReconnectForTheRestAsync();
        }
    }

    private async Task ReconnectForTheRestAsync()
    {
        Log.Info("MQTT: the held edge messages are done; reconnecting to the external broker for the ones not taken");
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), limit.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    /// <summary>Checks each message in arrival order; refused ones are acknowledged, accepted ones handed to the
    /// event log (group commit) and, in the same order, to the republishing loop.</summary>
    private async Task CheckLoopAsync()
    {
        await foreach (var (e, receivedOn, bytes) in incoming.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            bool done = true;
            try
            {
                if (leaving || receivedOn != Interlocked.Read(ref generation))
                {
                    continue; // stopping, or its connection is gone: the broker sends it again on the next one
                }
                var message = e.ApplicationMessage;
                byte[] payload = message.Payload.ToArray();
                if ((Refusal(message.Topic, payload, message.Retain, out string node) ?? TooLarge(message.Topic, payload.Length)) is string reason)
                {
                    Interlocked.Increment(ref refused);
                    BrokerAccess.CountRefusedPublish(node, message.Topic, reason);
                    await AcknowledgeAsync(e, receivedOn).ConfigureAwait(false);
                    continue;
                }
                var stored = eventLog.AppendAsync(new MqttEvent(node, message.Topic, payload, core.Clock.GetUtcNow().ToUnixTimeMilliseconds()), CancellationToken.None);
                done = !accepted.Writer.TryWrite(new Accepted(e, receivedOn, bytes, node, payload, stored));
            }
            catch (Exception ex)
            {
                Log.Error($"MQTT: a message on '{BrokerAccess.Printable(e.ApplicationMessage.Topic)}' not handled: {ex.GetType().Name}: {ex.Message}; not acknowledged, the broker sends it again on the next connection");
            }
            finally
            {
                if (done)
                {
                    Done(bytes);
                }
            }
        }
        accepted.Writer.TryComplete();
    }

    /// <summary>Waits for each accepted message's commit, republishes it on verified/ and acknowledges it, one at a
    /// time in the order they were checked.</summary>
    private async Task RepublishLoopAsync()
    {
        await foreach (var m in accepted.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            string topic = m.Message.ApplicationMessage.Topic;
            try
            {
                try
                {
                    await m.Stored.ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Log.Error($"MQTT event log: node {m.Node} topic '{topic}' not stored: {ex.GetType().Name}: {ex.Message}; not acknowledged, the broker sends it again on the next connection");
                    continue;
                }
                Interlocked.Increment(ref verified);
                TapirMetrics.MqttMessages.Add(1, TapirMetrics.Outcome("verified"));
                try
                {
                    await PublishAsync(MqttBroker.VerifiedPrefix + topic, m.Payload, false, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Log.Warning($"MQTT: node {m.Node} topic '{topic}' stored but not republished on {MqttBroker.VerifiedPrefix}… ({ex.Message}); not acknowledged, the broker sends it again on the next connection");
                    continue;
                }
                await AcknowledgeAsync(m.Message, m.Generation).ConfigureAwait(false);
            }
            finally
            {
                Done(m.Bytes);
            }
        }
    }

    /// <summary>Null when the message, republished on verified/, fits the broker's Maximum Packet Size; else the reason.</summary>
    private string? TooLarge(string topic, int payloadBytes)
    {
        long limit = Interlocked.Read(ref maxPacket);
        long size = RepublishedPacketBytes(topic, payloadBytes);
        return size > limit
            ? $"TooLarge: on {MqttBroker.VerifiedPrefix}… it would be a {size}-byte packet, over the broker's maximum of {limit}"
            : null;
    }

    /// <summary>The size of the MQTT 5 QoS 1 PUBLISH of <paramref name="payloadBytes"/> on verified/<paramref name="topic"/>
    /// with no properties: fixed header, topic, packet id, property length, payload.</summary>
    public static long RepublishedPacketBytes(string topic, int payloadBytes)
    {
        long remaining = 2 + Encoding.UTF8.GetByteCount(MqttBroker.VerifiedPrefix + topic) + 2 + 1 + (long)payloadBytes;
        int lengthBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
        return 1 + lengthBytes + remaining;
    }

    private async Task AcknowledgeAsync(MqttApplicationMessageReceivedEventArgs e, long receivedOn)
    {
        if (receivedOn != Interlocked.Read(ref generation) || !client.IsConnected)
        {
            return; // its connection is gone: the broker sends it again on the next one
        }
        try
        {
            await e.AcknowledgeAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.Warning($"MQTT: the acknowledgement of a message on '{e.ApplicationMessage.Topic}' was not sent ({ex.Message}); the broker sends it again on the next connection");
        }
    }
}
