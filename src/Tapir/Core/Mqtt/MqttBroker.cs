// The embedded MQTT broker of `tapir core serve` (DESIGN §6.1–6.4): MQTTnet 5.2 on TLS 1.2/1.3 at
// core.mqtt_listen with the core's server certificate, a client certificate required (BrokerAccess),
// MQTT 3.1.1 and 5, persistent sessions. Edge publishes that pass the ACL and the JWS check are
// consumed here (ProcessPublish = false): written to the event log (group commit), then queued
// unchanged on `verified/<topic>` for the core-role sessions subscribed to it (VerifiedRouter) and
// acknowledged. Retained core messages are restored from the outbox at start. Sessions of removed
// nodes are deleted (connection closed, queue dropped) and connections whose certificate is no
// longer live are closed (Reap, every refresh of the live identities).
using System.Buffers;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Tapir.Core.Enrollment;
using Tapir.Logging;
using Tapir.Metrics;
using Tapir.Storage;

namespace Tapir.Core.Mqtt;

public sealed class MqttBroker : ICoreBroker
{
    public const string VerifiedPrefix = "verified/";

    /// <summary>Messages queued per session at most; beyond it the oldest queued one is dropped (MQTTnet's default strategy).</summary>
    public const int MaxPendingMessagesPerClient = 1000;

    private readonly CoreContext core;
    private readonly BrokerAccess access;
    private readonly IngressVerifier ingress;
    private readonly EventLogWriter eventLog;
    private readonly X509Certificate2 serverCertificate;
    private readonly MqttServer server;
    private readonly VerifiedRouter verifiedRouter;
    private readonly CancellationTokenSource stopping = new();
    private Task? outbox;
    private long verified;

    public MqttBroker(CoreContext core)
    {
        this.core = core;
        access = new BrokerAccess(core);
        ingress = new IngressVerifier(core);
        eventLog = new EventLogWriter(core);
        TapirMetrics.EventLogLag = () => eventLog.Pending;
        serverCertificate = core.State.ServerCertificate();
        server = new MqttServerFactory().CreateMqttServer(Options(), [new BrokerListener(Endpoint(core.Config.MqttListen), serverCertificate, access, core.Config.MqttMaxPacketBytes)]);
        verifiedRouter = new VerifiedRouter(server);
        server.ValidatingConnectionAsync += ValidateConnection;
        server.InterceptingSubscriptionAsync += access.InterceptSubscription;
        server.ClientSubscribedTopicAsync += verifiedRouter.Subscribed;
        server.ClientUnsubscribedTopicAsync += verifiedRouter.Unsubscribed;
        server.InterceptingPublishAsync += InterceptPublish;
        server.SessionDeletedAsync += e =>
        {
            access.Sessions.TryRemove(e.Id, out _);
            verifiedRouter.Forget(e.Id);
            return Task.CompletedTask;
        };
        server.LoadingRetainedMessageAsync += LoadRetained;
        server.ClientConnectedAsync += e =>
        {
            TapirMetrics.MqttConnections.Add(1);
            // A resumed session keeps the items of the connection that created it (MQTTnet hands this
            // CONNECT's items only to a new session): put this connection's peer, as ValidateConnection
            // recorded it, on the session before MQTTnet reads the connection's first packet, so a client
            // that reconnects with a renewed certificate is known by its new serial.
            if (access.Sessions.TryGetValue(e.ClientId, out var current))
            {
                e.SessionItems[BrokerAccess.PeerKey] = current;
            }
            if (e.SessionItems[BrokerAccess.PeerKey] is MqttPeer peer)
            {
                Log.Info($"MQTT client '{e.ClientId}' connected: node {peer.Node}, certificate serial {peer.Serial.ToLowerInvariant()}");
            }
            return Task.CompletedTask;
        };
        // MQTTnet reports a disconnect only for a client whose CONNECT it accepted, as it reports connects.
        server.ClientDisconnectedAsync += _ =>
        {
            TapirMetrics.MqttConnections.Add(-1);
            return Task.CompletedTask;
        };
    }

    public async Task StartAsync()
    {
        eventLog.Start();
        await server.StartAsync().ConfigureAwait(false);
        outbox = new OutboxPublisher(core, new EmbeddedSink(server, core.Config.Name)).RunAsync(stopping.Token);
        Log.Info($"MQTT broker listening on mqtts://{core.Config.MqttListen} (MQTT 3.1.1 and 5, client certificate required)");
    }

    public string ReadyText => $" and {core.Config.MqttListen} (MQTT)";

    /// <summary>Stops accepting, lets publishes in flight commit, closes every connection.</summary>
    public async Task StopAsync()
    {
        server.AcceptNewConnections = false;
        await stopping.CancelAsync().ConfigureAwait(false);
        if (outbox is not null)
        {
            await outbox.ConfigureAwait(false);
        }
        await server.StopAsync(new MqttServerStopOptions()).ConfigureAwait(false);
        await eventLog.StopAsync().ConfigureAwait(false);
        Log.Info($"MQTT broker stopped ({Interlocked.Read(ref verified)} verified edge messages, {access.Refusals} refusals)");
    }

    /// <summary>Applies removals and revocations to live sessions (called after each refresh of the live identities).</summary>
    public async Task ReapAsync()
    {
        if (access.Sessions.IsEmpty)
        {
            return;
        }
        var removed = core.Db(MqttEventLog.RemovedNodes);
        var gone = access.Sessions.Where(s => removed.Contains(s.Value.Node)).ToList();
        var revoked = access.Sessions.Where(s => !removed.Contains(s.Value.Node) && !core.Validator.IsLive(s.Value.Serial)).ToList();
        if (gone.Count > 0)
        {
            var sessions = (await server.GetSessionsAsync().ConfigureAwait(false)).ToDictionary(s => s.Id, StringComparer.Ordinal);
            foreach (var (clientId, peer) in gone)
            {
                access.Sessions.TryRemove(clientId, out _);
                ingress.Forget(peer.Node);
                if (sessions.TryGetValue(clientId, out var session))
                {
                    await session.DeleteAsync().ConfigureAwait(false);
                }
                Log.Info($"MQTT session '{clientId}' of removed node {peer.Node} closed and deleted");
            }
        }
        if (revoked.Count > 0)
        {
            var connected = (await server.GetClientsAsync().ConfigureAwait(false)).Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var (clientId, peer) in revoked.Where(r => connected.Contains(r.Key)))
            {
                await server.DisconnectClientAsync(clientId, new MqttServerClientDisconnectOptions { ReasonCode = MqttDisconnectReasonCode.NotAuthorized }).ConfigureAwait(false);
                Log.Info($"MQTT connection '{clientId}' of node {peer.Node} closed: its certificate {peer.Serial} is no longer live");
            }
        }
    }

    private async Task ValidateConnection(ValidatingConnectionEventArgs e)
    {
        await access.ValidateConnection(e).ConfigureAwait(false);
        if (e.ReasonCode == MqttConnectReasonCode.Success && e.CleanSession == true)
        {
            verifiedRouter.Forget(e.ClientId); // a clean start replaces the session and its subscriptions
        }
    }

    private async Task InterceptPublish(InterceptingPublishEventArgs e)
    {
        if (e.SessionItems[BrokerAccess.PeerKey] is not MqttPeer peer)
        {
            return; // the core's own messages (outbox, verified/…): routed as they are
        }
        if (!access.AuthorizePublish(e, peer) || peer.CoreRole)
        {
            return; // refused, or a core role's allowed publish: routed
        }
        var message = e.ApplicationMessage;
        byte[] payload = message.Payload.ToArray();
        if (ingress.Refusal(peer.Node, message.Topic, payload) is string reason)
        {
            access.RefusePublish(e, peer.Node, reason);
            return;
        }
        e.ProcessPublish = false;
        try
        {
            await eventLog.AppendAsync(new MqttEvent(peer.Node, message.Topic, payload, core.Clock.GetUtcNow().ToUnixTimeMilliseconds()), e.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            e.Response.ReasonCode = e.Response.ReasonCode == MqttPubAckReasonCode.Success ? MqttPubAckReasonCode.UnspecifiedError : e.Response.ReasonCode;
            Log.Error($"MQTT event log: node {peer.Node} topic '{message.Topic}' not stored: {ex.GetType().Name}: {ex.Message}");
            return;
        }
        Interlocked.Increment(ref verified);
        TapirMetrics.MqttMessages.Add(1, TapirMetrics.Outcome("verified"));
        await verifiedRouter.DeliverAsync(core.Config.Name, VerifiedPrefix + message.Topic, payload).ConfigureAwait(false);
    }

    private Task LoadRetained(LoadingRetainedMessagesEventArgs e)
    {
        foreach (var m in core.Db(MqttEventLog.RetainedMessages))
        {
            e.LoadedRetainedMessages.Add(new MqttApplicationMessageBuilder().WithTopic(m.Topic).WithPayload(m.Message).WithRetainFlag()
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }
        return Task.CompletedTask;
    }

    // TLS, the client certificate check and the limits are BrokerListener's; 10 s is also the time MQTTnet gives a client from handshake to CONNECT.
    private static MqttServerOptions Options()
    {
        var options = new MqttServerOptionsBuilder()
            .WithoutDefaultEndpoint()
            .WithPersistentSessions()
            .WithDefaultCommunicationTimeout(TimeSpan.FromSeconds(10))
            .WithMaxPendingMessagesPerClient(MaxPendingMessagesPerClient)
            .Build();
        // Each connection keeps one packet writer for headers and properties (a PUBLISH's payload is not
        // copied into it; BrokerListener sends header and payload joined in a short-lived array): small
        // at first, and shrunk back to WriterBufferSizeMax after a larger packet.
        options.WriterBufferSize = 512;
        options.WriterBufferSizeMax = 4096;
        return options;
    }

    private static IPEndPoint Endpoint(string listen)
    {
        int colon = listen.LastIndexOf(':');
        string host = listen[..colon].Trim('[', ']');
        if (!IPAddress.TryParse(host, out var address))
        {
            address = host == "localhost" ? IPAddress.Loopback : throw new TapirException($"core.mqtt_listen: '{host}' is not an IP address.");
        }
        return new IPEndPoint(address, int.Parse(listen[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    public async ValueTask DisposeAsync()
    {
        server.Dispose();
        serverCertificate.Dispose();
        stopping.Dispose();
        await Task.CompletedTask.ConfigureAwait(false);
    }
}
