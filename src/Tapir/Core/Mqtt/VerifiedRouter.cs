// Delivery of verified edge messages on `verified/<topic>` (DESIGN §6.4): only core-role sessions
// may read them, so the broker keeps the subscriptions of core-role sessions here (from MQTTnet's
// subscribed/unsubscribed/session-deleted events) and hands each verified message straight to the
// queue of every core-role session with a matching filter, at the highest QoS it was granted (at
// most 1), not retained. Nothing goes through MQTTnet's general dispatch, which checks every
// subscribed session (every connected edge) for each message. A clean start empties the session's
// subscriptions, as MQTTnet does. Not carried over from the general dispatch: MQTT 5 subscription
// identifiers on the delivered PUBLISH.
using System.Collections.Concurrent;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Tapir.Security.Mqtt;

namespace Tapir.Core.Mqtt;

public sealed class VerifiedRouter(MqttServer server)
{
    private readonly record struct Subscription(string Filter, MqttQualityOfServiceLevel Qos, bool NoLocal);

    // Client id of a core-role session to its current subscriptions (replaced as a whole on change).
    private readonly ConcurrentDictionary<string, Subscription[]> sessions = new(StringComparer.Ordinal);

    public Task Subscribed(ClientSubscribedTopicEventArgs e)
    {
        if (e.SessionItems[BrokerAccess.PeerKey] is MqttPeer { CoreRole: true })
        {
            var added = new Subscription(e.TopicFilter.Topic, e.TopicFilter.QualityOfServiceLevel, e.TopicFilter.NoLocal);
            sessions.AddOrUpdate(e.ClientId, [added], (_, old) => [.. old.Where(s => s.Filter != added.Filter), added]);
        }
        return Task.CompletedTask;
    }

    public Task Unsubscribed(ClientUnsubscribedTopicEventArgs e)
    {
        if (sessions.TryGetValue(e.ClientId, out var old))
        {
            sessions[e.ClientId] = [.. old.Where(s => s.Filter != e.TopicFilter)];
        }
        return Task.CompletedTask;
    }

    /// <summary>The session is gone (deleted, or replaced by a clean start): its subscriptions with it.</summary>
    public void Forget(string clientId) => sessions.TryRemove(clientId, out _);

    /// <summary>Queues the message, unchanged, on <paramref name="topic"/> for every core-role session subscribed to it.</summary>
    public async Task DeliverAsync(string sender, string topic, byte[] payload)
    {
        foreach (var (clientId, subscriptions) in sessions)
        {
            int qos = -1;
            foreach (var s in subscriptions)
            {
                if (!(s.NoLocal && clientId == sender) && TopicFilter.Matches(s.Filter, topic))
                {
                    qos = Math.Max(qos, Math.Min((int)s.Qos, (int)MqttQualityOfServiceLevel.AtLeastOnce));
                }
            }
            if (qos >= 0)
            {
                await EnqueueAsync(clientId, topic, payload, (MqttQualityOfServiceLevel)qos).ConfigureAwait(false);
            }
        }
    }

    private async Task EnqueueAsync(string clientId, string topic, byte[] payload, MqttQualityOfServiceLevel qos)
    {
        MqttSessionStatus session;
        try
        {
            session = await server.GetSessionAsync(clientId).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            return; // deleted meanwhile; SessionDeleted forgets it
        }
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(qos).Build();
        // Over MaxPendingMessagesPerClient the oldest queued message is dropped, as in the general dispatch.
        session.TryEnqueueApplicationMessage(message, out _);
    }
}
