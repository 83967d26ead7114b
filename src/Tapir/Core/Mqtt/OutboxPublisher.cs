// Publishes the core's durable outboxes through the embedded broker (DESIGN §6.5, §7): the signed
// messages in mqtt_outbox (core publish, node configurations, the JWKS; retained where the row
// says) and the signed new_aggregate events in aggregate_events (topic `aggregates`). The tables
// are polled every 200 ms; a row is marked published only after the broker has taken it, so a
// row written while no core runs, or during a crash, is published at the next start.
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Tapir.Core.Enrollment;
using Tapir.Logging;
using Tapir.Storage;

namespace Tapir.Core.Mqtt;

public sealed class OutboxPublisher(CoreContext core, MqttServer server)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await PublishPendingAsync(stop).ConfigureAwait(false);
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
                await InjectAsync(server, core.Config.Name, m.Topic, m.Message, m.Retain, stop).ConfigureAwait(false);
                core.Db(db => { MqttOutbox.MarkPublished(db, m.Seq, core.Clock.GetUtcNow()); return 0; });
                Log.Info($"published outbox message {m.Seq} on '{m.Topic}'{(m.Retain ? " (retained)" : "")}");
            }
            foreach (var m in core.Db(db => MqttEventLog.PendingAggregateEvents(db)))
            {
                await InjectAsync(server, core.Config.Name, m.Topic, m.Message, false, stop).ConfigureAwait(false);
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
