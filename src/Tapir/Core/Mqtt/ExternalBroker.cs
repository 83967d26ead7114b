// `core serve` with core.mqtt_mode = "external" (DESIGN §6.4, §6.6; the message path is in
// ExternalBroker.Ingress.cs): no MQTT listener; one MQTT 5
// client connection over TLS to the broker at core.mqtt_url (Mosquitto) with the core's server
// certificate (serverAuth + clientAuth) and the broker accepted only with a serverAuth certificate
// from the tapir root naming the host dialled (Edge.BrokerConnection). Client id
// `<core.name>-core-<secret>` (CoreClientId: 128 random bits kept 0600 in the state directory, never
// logged), because mosquitto does not bind client ids to certificates: an edge that knew the id could
// close the core's connection and end its session. A persistent session (clean start false,
// session expiry 7 days), so what edges publish while the
// core is away is delivered when it is back; a lost broker is redialled with exponential backoff
// and jitter. Subscribes to `events/up/#` and `status/up/#` at QoS 1. The sender's identity is not
// known from the connection here, so each message's node is the topic's node segment (the level
// where an mqtt.edge_publish pattern has `{node}`): that node must not be removed, the publish ACL
// must allow it the topic (retained publishes refused as in the embedded broker), and the JWS must
// pass IngressVerifier (kid = the node, its data key). A refused message is logged and counted like
// the embedded broker's, and acknowledged (it is not wanted again); so is one that would exceed the
// broker's Maximum Packet Size once republished under `verified/` (it could never be delivered, and
// unacknowledged it would come back at every connection). An accepted one is written to
// the event log (group commit), then republished unchanged on `verified/<topic>` (QoS 1, PUBACK
// awaited), and only then acknowledged to the broker (deferred PUBACK). Messages are checked in the
// order they arrive by one loop, and republished in that order by another, one at a time, so
// `verified/…` keeps the order the broker delivered them in. The core holds at most HeldBytesLimit of
// edge messages (mosquitto 2.0.11 sends past the Receive Maximum): beyond it, it takes nothing more,
// and once what it holds is done it reconnects so the broker sends the rest again. A core that dies before
// that gets the message again from its session (at least once; the event log may then hold it
// twice). The outboxes are published over the same connection (IOutboxSink); while it is down they wait.
// The core's own QoS 1 publishes keep to the broker's Receive Maximum (its CONNACK) and count as failed
// after 30 s without a PUBACK.
using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Protocol;
using Tapir.Core.Enrollment;
using Tapir.Edge;
using Tapir.Logging;
using Tapir.Metrics;
using Tapir.Security.Mqtt;
using Tapir.Storage;

namespace Tapir.Core.Mqtt;

public sealed partial class ExternalBroker : ICoreBroker, IOutboxSink
{
    public static readonly TimeSpan SessionExpiry = TimeSpan.FromDays(7);

    /// <summary>Unacknowledged messages the broker may send the core at once (MQTT 5 Receive Maximum, in the CONNECT).
    /// Mosquitto 2.0.11 was seen to send far more (tapir_mqtt_unacknowledged above 18,000 under bench/mqtt.sh).</summary>
    public const ushort ReceiveMaximum = 1000;

    public static readonly string[] Subscriptions = ["events/up/#", "status/up/#"];

    /// <summary>How long a publish waits for its turn and its PUBACK before it counts as failed.</summary>
    public static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan LongestBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ShortConnection = TimeSpan.FromSeconds(10);

    private readonly CoreContext core;
    private readonly IngressVerifier ingress;
    private readonly EventLogWriter eventLog;
    private readonly MqttAcl acl;
    private readonly BrokerConnection connection;
    private readonly IMqttClient client;
    private readonly CancellationTokenSource stopping = new();
    private HashSet<string> removed = new(StringComparer.Ordinal);
    private SemaphoreSlim sendQuota = new(ushort.MaxValue); // the broker's Receive Maximum, from its CONNACK
    private X509Certificate2? identity; // the certificate of the current connection, replaced at each attempt
    private long maxPacket; // the broker's Maximum Packet Size (CONNACK) capped at mqtt.max_packet_bytes
    private Task? loop;
    private Task? outbox;
    private TaskCompletionSource connectionEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long generation; // one per connection: an acknowledgement only goes on the connection its message came on
    private long verified;
    private long refused;
    private long handling;
    private volatile bool leaving;

    public ExternalBroker(CoreContext core)
    {
        this.core = core;
        clientId = CoreClientId.LoadOrCreate(core.State, core.Config.Name);
        ingress = new IngressVerifier(core);
        eventLog = new EventLogWriter(core);
        acl = new MqttAcl(core.Config.MqttAcl);
        connection = new BrokerConnection(new MqttSettings(core.Config.Name, core.Config.MqttUrl, "", ""), core.State.Root);
        client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += Received;
        client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected)
            {
                Interlocked.Increment(ref generation); // what that connection delivered is not acknowledged on another
                core.BrokerConnected = false;
                if (!leaving)
                {
                    Log.Warning($"disconnected from the external MQTT broker {Url} ({e.Reason}{(e.Exception is null ? "" : ": " + connection.Describe(e.Exception))})");
                }
                connectionEnded.TrySetResult();
            }
            return Task.CompletedTask;
        };
        TapirMetrics.EventLogLag = () => eventLog.Pending;
        TapirMetrics.BrokerConnected = () => core.BrokerConnected == true ? 1 : 0;
        TapirMetrics.BrokerUnacknowledged = () => Interlocked.Read(ref handling);
        core.BrokerConnected = false;
    }

    /// <summary>The client id with its secret part (CoreClientId); only ever sent to the broker.</summary>
    private readonly string clientId;

    /// <summary>The client id as logged: the secret part cut to its first 4 characters.</summary>
    public string ClientIdShown => CoreClientId.Shown(clientId);

    /// <summary>core.mqtt_url as configured (for the log).</summary>
    private string Url => core.Config.MqttUrl.OriginalString;

    public string ReadyText => $"; MQTT through the external broker {Url} as client {ClientIdShown}";

    public bool Ready => client.IsConnected;

    public Task StartAsync()
    {
        removed = core.Db(MqttEventLog.RemovedNodes);
        eventLog.Start();
        Log.Info($"MQTT: external broker mode, no MQTT listener; connecting to {Url} as client {ClientIdShown}");
        checking = CheckLoopAsync();
        republishing = RepublishLoopAsync();
        loop = ConnectionLoopAsync(stopping.Token);
        outbox = new OutboxPublisher(core, this).RunAsync(stopping.Token);
        return Task.CompletedTask;
    }

    /// <summary>Stops publishing, gives messages being handled up to 5 s to finish (the broker sends the rest
    /// again on the next connection), disconnects cleanly.</summary>
    public async Task StopAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loop ?? Task.CompletedTask, outbox ?? Task.CompletedTask).ConfigureAwait(false);
        for (int i = 0; i < 100 && Interlocked.Read(ref handling) > 0; i++)
        {
            await Task.Delay(50).ConfigureAwait(false);
        }
        leaving = true;
        if (client.IsConnected)
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), limit.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            Log.Info($"disconnected from the external MQTT broker {Url}");
        }
        core.BrokerConnected = false;
        incoming.Writer.TryComplete();
        await Task.WhenAll(checking ?? Task.CompletedTask, republishing ?? Task.CompletedTask).ConfigureAwait(false);
        await eventLog.StopAsync().ConfigureAwait(false);
        Log.Info($"MQTT client stopped ({Interlocked.Read(ref verified)} verified edge messages, {Interlocked.Read(ref refused)} refused)");
    }

    /// <summary>Takes in removals made since the last call: a removed node's messages are refused from then on.</summary>
    public Task ReapAsync()
    {
        var now = core.Db(MqttEventLog.RemovedNodes);
        foreach (string node in now.Where(n => !removed.Contains(n)))
        {
            ingress.Forget(node);
            Log.Info($"node {node} is removed: its MQTT messages are refused from now on");
        }
        removed = now;
        return Task.CompletedTask;
    }

    public async Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken cancel)
    {
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
        // MQTTnet does not keep to the broker's Receive Maximum; more unacknowledged QoS 1 publishes than it
        // allows are a protocol error (mosquitto 2.0.11 never answered some of them), so the core keeps to it here.
        var quota = Volatile.Read(ref sendQuota);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(PublishTimeout);
        await quota.WaitAsync(limit.Token).ConfigureAwait(false);
        MqttClientPublishResult result;
        try
        {
            result = await client.PublishAsync(message, limit.Token).ConfigureAwait(false);
        }
        finally
        {
            quota.Release();
        }
        if (!result.IsSuccess)
        {
            throw new TapirException($"the broker refused the publish on '{topic}': {result.ReasonCode} (0x{(int)result.ReasonCode:x2})");
        }
    }

    /// <summary>Null when the message may be taken, else the reason it is refused; <paramref name="node"/> is the topic's node.</summary>
    public string? Refusal(string topic, ReadOnlyMemory<byte> payload, bool retain, out string node)
    {
        node = "(none)";
        if (topic.Contains('\uFFFD', StringComparison.Ordinal))
        {
            return "Malformed: the topic is not valid UTF-8";
        }
        if (NodeOf(topic) is not string named)
        {
            return "AclDenied: the topic names no node an edge may publish as";
        }
        node = named;
        if (removed.Contains(node))
        {
            return "CertificateRevoked: the node is removed";
        }
        if (!acl.TryAuthorizePublish(node, false, topic, retain, out var why))
        {
            return why == Security.Rejection.AclDenied && retain ? "AclDenied (retained publish, or topic not allowed)" : why.ToString();
        }
        return ingress.Refusal(node, topic, payload);
    }

    /// <summary>The node a topic names: the level where the first mqtt.edge_publish pattern it falls under has `{node}`.</summary>
    private string? NodeOf(string topic)
    {
        string[] levels = topic.Split('/');
        foreach (string pattern in core.Config.MqttAcl.EdgePublish)
        {
            int at = Array.IndexOf(pattern.Split('/'), MqttAcl.NodePlaceholder);
            if (at >= 0 && at < levels.Length && Security.Pki.NodeName.IsValid(levels[at]) && TopicFilter.Matches(MqttAcl.Expand(pattern, levels[at]), topic))
            {
                return levels[at];
            }
        }
        return null;
    }

    private async Task ConnectionLoopAsync(CancellationToken stop)
    {
        int failures = 0;
        while (!stop.IsCancellationRequested)
        {
            connectionEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                await ConnectAsync(stop).ConfigureAwait(false);
                var connectedAt = DateTimeOffset.UtcNow;
                await connectionEnded.Task.WaitAsync(stop).ConfigureAwait(false);
                failures = DateTimeOffset.UtcNow - connectedAt > ShortConnection ? 0 : failures + 1;
                if (failures > 0)
                {
                    await PauseAsync(failures, "the connection to the external MQTT broker ended within seconds", stop).ConfigureAwait(false);
                }
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                core.BrokerConnected = false;
                if (client.IsConnected)
                {
                    using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), limit.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                }
                await PauseAsync(++failures, $"cannot connect to the external MQTT broker {Url} (attempt {failures}: {connection.Describe(e)})", stop).ConfigureAwait(false);
            }
        }
    }

    private async Task ConnectAsync(CancellationToken stop)
    {
        // Read at each attempt: a server certificate renewed meanwhile (`core renew-server-cert`) is taken into use.
        var previous = identity;
        identity = core.State.ServerCertificate();
        previous?.Dispose();
        var options = connection.Options(identity, clientId, cleanStart: false, SessionExpiry);
        options.ReceiveMaximum = ReceiveMaximum;
        Interlocked.Increment(ref generation);
        Volatile.Write(ref overflowed, 0);
        var result = await client.ConnectAsync(options, stop).ConfigureAwait(false);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            throw new TapirException($"CONNACK {result.ResultCode}");
        }
        Volatile.Write(ref sendQuota, new SemaphoreSlim(result.ReceiveMaximum is ushort most and > 0 ? most : ushort.MaxValue));
        Interlocked.Exchange(ref maxPacket, Math.Min(result.MaximumPacketSize is uint size and > 0 ? size : long.MaxValue, core.Config.MqttMaxPacketBytes));
        var subscribe = new MqttClientSubscribeOptionsBuilder();
        foreach (string topic in Subscriptions)
        {
            // Retain as published: a retained edge publish is seen as one (and refused, as the embedded broker does).
            subscribe.WithTopicFilter(new MqttTopicFilterBuilder().WithTopic(topic).WithAtLeastOnceQoS().WithRetainAsPublished(true)
                .WithRetainHandling(MqttRetainHandling.DoNotSendOnSubscribe).Build());
        }
        var granted = await client.SubscribeAsync(subscribe.Build(), stop).ConfigureAwait(false);
        if (granted.Items.FirstOrDefault(i => (int)i.ResultCode >= 0x80) is { } refusedFilter)
        {
            throw new TapirException($"the broker refused the subscription to {refusedFilter.TopicFilter.Topic}: {refusedFilter.ResultCode} (0x{(int)refusedFilter.ResultCode:x2})");
        }
        core.BrokerConnected = true;
        Log.Info($"connected to the external MQTT broker {Url} as {ClientIdShown} with certificate serial {Convert.ToHexStringLower(identity.SerialNumberBytes.Span)} (session {(result.IsSessionPresent ? "resumed" : "new")}, broker receive maximum {result.ReceiveMaximum ?? ushort.MaxValue}); subscribed to {string.Join(", ", Subscriptions)}");
    }

    private static async Task PauseAsync(int failures, string why, CancellationToken stop)
    {
        double seconds = Math.Min(LongestBackoff.TotalSeconds, Math.Pow(2, Math.Min(failures - 1, 10)) * 0.5);
        var delay = TimeSpan.FromSeconds(seconds * (0.75 + 0.5 * Random.Shared.NextDouble()));
        Log.Warning($"{why}; retrying in {delay.TotalSeconds:F1} s");
        await Task.Delay(delay, stop).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        stopping.Dispose();
        identity?.Dispose();
        await Task.CompletedTask.ConfigureAwait(false);
    }
}
