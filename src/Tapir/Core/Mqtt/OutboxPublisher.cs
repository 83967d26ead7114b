// Publishes the core's durable outboxes to the broker (DESIGN §6.5, §6.6, §7): the signed messages
// in mqtt_outbox (core publish, node configurations, the JWKS; retained where the row says) and the
// signed new_aggregate events in aggregate_events (topic `aggregates`). The tables are polled every
// 200 ms; a row is marked published only after the sink has taken it (the embedded broker's inject,
// or the external broker's PUBACK), so a row written while no core runs, during a crash, or while
// the external broker is out of reach is published once it can be.
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Tapir.Core.Enrollment;
using Tapir.Logging;
using Tapir.Storage;

namespace Tapir.Core.Mqtt;

/// <summary>Where the core's own messages go: the embedded broker, or the external broker over the core's client connection.</summary>
public interface IOutboxSink
{
    /// <summary>False while the sink cannot take a message (the external broker is not connected): the rows wait.</summary>
    bool Ready { get; }

    /// <summary>Completes once the broker has taken the message (QoS 1); throws when it has not.</summary>
    Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken cancel);
}

/// <summary>The embedded broker: the message is injected as if sent by the core.</summary>
public sealed class EmbeddedSink(MqttServer server, string sender) : IOutboxSink
{
    public bool Ready => true;

    public Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken cancel) =>
        OutboxPublisher.InjectAsync(server, sender, topic, payload, retain, cancel);
}

public sealed class OutboxPublisher(CoreContext core, IOutboxSink sink)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (sink.Ready)
                {
                    await PublishPendingAsync(stop).ConfigureAwait(false);
                }
                await Task.Delay(PollInterval, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task PublishPendingAsync(CancellationToken stop)
    {
        try
        {
            foreach (var m in core.Db(db => MqttOutbox.Pending(db)))
            {
                await sink.PublishAsync(m.Topic, m.Message, m.Retain, stop).ConfigureAwait(false);
                core.Db(db => { MqttOutbox.MarkPublished(db, m.Seq, core.Clock.GetUtcNow()); return 0; });
                Log.Info($"published outbox message {m.Seq} on '{m.Topic}'{(m.Retain ? " (retained)" : "")}");
            }
            foreach (var m in core.Db(db => MqttEventLog.PendingAggregateEvents(db)))
            {
                await sink.PublishAsync(m.Topic, m.Message, false, stop).ConfigureAwait(false);
                core.Db(db => { MqttEventLog.MarkAggregateEventPublished(db, m.Seq, core.Clock.GetUtcNow()); return 0; });
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.Error($"MQTT outbox: {e.GetType().Name}: {e.Message}; retrying");
        }
    }

    /// <summary>Hands one message of the core's own to the broker (QoS 1), as sender <paramref name="sender"/>.</summary>
    public static Task InjectAsync(MqttServer server, string sender, string topic, byte[] payload, bool retain, CancellationToken cancel)
    {
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
        return server.InjectApplicationMessage(new InjectedMqttApplicationMessage(message) { SenderClientId = sender }, cancel);
    }
}
