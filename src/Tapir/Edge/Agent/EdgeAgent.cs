// `tapir edge run` (DESIGN §1, §4.3, §6; issue 12): one MQTT 5 connection over mTLS to the broker
// of the enrollment answer, client id `<node>-tapir`, a resumable session (clean start only on the
// first connect of the process, session expiry one day). On every connect it subscribes to its
// configuration topic, `config/down/#` and `observations/down/#` and publishes its signed status;
// the status is published again every edge.status_interval. A lost broker is redialled with
// exponential backoff and jitter; a renewed certificate (RenewalLoop) is taken into use by a
// clean disconnect and a reconnect, never a restart. Before every connect attempt it reads the
// certificate in the state directory again: one renewed outside the agent (`tapir edge renew`, which
// revokes the one in use, so the broker drops the agent) is taken into use by that reconnect.
// Stops at the token (SIGTERM via ProcessSignals).
// With edge.metrics_listen set it serves /metrics and /healthz (EdgeMetricsServer) while it runs.
using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Protocol;
using Tapir.Config;
using Tapir.Logging;
using Tapir.Metrics;
using Tapir.Security.Jose;

namespace Tapir.Edge.Agent;

public sealed class EdgeAgent : IDisposable
{
    private static readonly TimeSpan SessionExpiry = TimeSpan.FromDays(1);
    private static readonly TimeSpan LongestBackoff = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ShortConnection = TimeSpan.FromSeconds(10);

    private readonly EdgeState state;
    private readonly EdgeConfig config;
    private readonly BrokerConnection broker;
    private readonly TrustedKeys trust;
    private readonly ConfigStore store;
    private readonly MessageHandler handler;
    private readonly Jwk dataKey;
    private readonly IMqttClient client;
    private readonly DateTimeOffset started = DateTimeOffset.UtcNow;
    private readonly SemaphoreSlim publishing = new(1, 1);
    private X509Certificate2 identity;
    private RenewalLoop? renewal;
    private bool leaving; // true while the agent itself disconnects (renewal, stop)
    private TaskCompletionSource connectionEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public EdgeAgent(EdgeState state, EdgeConfig config)
    {
        this.state = state;
        this.config = config;
        var settings = state.ReadMqtt();
        broker = new BrokerConnection(settings, state.Root());
        trust = new TrustedKeys(state);
        store = new ConfigStore(state);
        handler = new MessageHandler(settings, trust, store);
        dataKey = state.DataKey();
        identity = state.TlsIdentity();
        client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            try
            {
                handler.Handle(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray(), DateTimeOffset.UtcNow);
            }
            catch (Exception x) when (x is IOException or UnauthorizedAccessException)
            {
                Log.Error($"message on {e.ApplicationMessage.Topic} verified but not stored: {x.Message}");
            }
            return Task.CompletedTask;
        };
        client.DisconnectedAsync += e =>
        {
            // A disconnect the agent asked for (renewal, stop) is logged where it is asked for.
            if (e.ClientWasConnected && !Volatile.Read(ref leaving))
            {
                Log.Warning($"disconnected from the broker {settings.Broker} ({e.Reason}{(e.Exception is null ? "" : ": " + broker.Describe(e.Exception))})");
            }
            if (e.ClientWasConnected)
            {
                connectionEnded.TrySetResult();
            }
            return Task.CompletedTask;
        };
    }

    public string ClientId => broker.Mqtt.Name + "-tapir";

    public X509Certificate2 Identity => Volatile.Read(ref identity);

    public async Task RunAsync(CancellationToken stop)
    {
        Log.Info($"edge agent {broker.Mqtt.Name} starting: broker {broker.Mqtt.Broker}, client id {ClientId}, trusted keys {TrustedKeys.Kids(trust.Current)}");
        string thumbprint = Thumbprint.Compute(dataKey);
        string alg = dataKey.ImpliedAlgorithm is JwsAlgorithm a ? JwsAlgorithms.Name(a) : "";
        EdgeMetrics.State = () =>
        {
            var current = Identity;
            double left = (new DateTimeOffset(current.NotAfter.ToUniversalTime()) - DateTimeOffset.UtcNow).TotalSeconds;
            return new EdgeGaugeState(left, Serial(current), client.IsConnected, alg, dataKey.Curve ?? "", dataKey.Kid ?? "", thumbprint);
        };
        await using var metrics = config.MetricsListen.Length > 0 ? await EdgeMetricsServer.StartAsync(config.MetricsListen).ConfigureAwait(false) : null;
        renewal = new RenewalLoop(state, config.RenewAfter, UseRenewed);
        var background = Task.WhenAll(renewal.RunAsync(Identity, stop), StatusLoopAsync(stop));
        await ConnectionLoopAsync(stop).ConfigureAwait(false);
        await background.ConfigureAwait(false);
        Volatile.Write(ref leaving, true);
        if (client.IsConnected)
        {
            await DropAsync().ConfigureAwait(false);
            Log.Info($"disconnected from the broker {broker.Mqtt.Broker}");
        }
    }

    private async Task ConnectionLoopAsync(CancellationToken stop)
    {
        bool first = true;
        int failures = 0;
        while (!stop.IsCancellationRequested)
        {
            connectionEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                await ConnectAsync(first, stop).ConfigureAwait(false);
                Volatile.Write(ref leaving, false);
                first = false;
                var connectedAt = DateTimeOffset.UtcNow;
                await connectionEnded.Task.WaitAsync(stop).ConfigureAwait(false);
                // A broker that drops the agent at once (a session taken over, an overloaded broker)
                // is redialled with backoff too; a connection that lived, or a renewal, is not.
                failures = Volatile.Read(ref leaving) || DateTimeOffset.UtcNow - connectedAt > ShortConnection ? 0 : failures + 1;
                if (failures > 0)
                {
                    await PauseAsync(failures, "the connection ended within seconds", stop).ConfigureAwait(false);
                }
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return; // stopping: a connect or a wait it cut short is no failure
            }
            catch (Exception e)
            {
                // Whatever failed (TLS, CONNACK, SUBACK, a dropped socket), the agent keeps trying.
                await DropAsync().ConfigureAwait(false);
                await PauseAsync(++failures, $"cannot connect to the broker {broker.Mqtt.Broker} (attempt {failures}: {broker.Describe(e)})", stop).ConfigureAwait(false);
            }
        }
    }

    private static async Task PauseAsync(int failures, string why, CancellationToken stop)
    {
        var delay = Backoff(failures);
        Log.Warning($"{why}; retrying in {delay.TotalSeconds:F1} s");
        await Task.Delay(delay, stop).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }

    private async Task DropAsync()
    {
        if (client.IsConnected)
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), limit.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    private async Task ConnectAsync(bool cleanStart, CancellationToken stop)
    {
        var current = TakeRenewedOutside();
        var result = await client.ConnectAsync(broker.Options(current, ClientId, cleanStart, SessionExpiry), stop).ConfigureAwait(false);
        EdgeMetrics.MqttConnects.Add(1);
        Log.Info($"connected to the broker {broker.Mqtt.Broker} as {ClientId} with certificate serial {Serial(current)} (session {(result.IsSessionPresent ? "resumed" : "new")})");
        await SubscribeAsync(stop).ConfigureAwait(false);
        await PublishStatusAsync(stop).ConfigureAwait(false);
    }

    private async Task SubscribeAsync(CancellationToken stop)
    {
        var topics = new[] { broker.Mqtt.ConfigTopic, "config/down/#", "observations/down/#" };
        var options = new MqttClientSubscribeOptionsBuilder();
        foreach (string topic in topics)
        {
            options.WithTopicFilter(new MqttTopicFilterBuilder().WithTopic(topic).WithAtLeastOnceQoS()
                .WithRetainHandling(MqttRetainHandling.SendAtSubscribeIfNewSubscriptionOnly).Build());
        }
        var result = await client.SubscribeAsync(options.Build(), stop).ConfigureAwait(false);
        foreach (var item in result.Items)
        {
            if ((int)item.ResultCode >= 0x80)
            {
                Log.Warning($"the broker refused the subscription to {item.TopicFilter.Topic}: {item.ResultCode} (0x{(int)item.ResultCode:x2})");
            }
        }
        Log.Info($"subscribed to {string.Join(", ", topics)}");
    }

    private async Task StatusLoopAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(config.StatusInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                if (client.IsConnected)
                {
                    await PublishStatusAsync(stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task PublishStatusAsync(CancellationToken stop)
    {
        await publishing.WaitAsync(stop).ConfigureAwait(false);
        try
        {
            var facts = new StatusFacts(broker.Mqtt.Name, started, Identity, dataKey, trust.Current, store.Last, handler.Accepted, handler.Refused);
            byte[] status = System.Text.Encoding.UTF8.GetBytes(StatusReport.Sign(facts, DateTimeOffset.UtcNow));
            var message = new MqttApplicationMessageBuilder().WithTopic(broker.Mqtt.StatusTopic)
                .WithPayload(status).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            var result = await client.PublishAsync(message, stop).ConfigureAwait(false);
            Audit.OutboundAudit.RecordMessage(state.Directory, broker.Mqtt.StatusTopic, status, broker.Mqtt.Name, $"PUBACK {result.ReasonCode} (0x{(int)result.ReasonCode:x2})");
            EdgeMetrics.StatusMessages.Add(1, EdgeMetrics.Outcome(result.IsSuccess ? "sent" : "refused"));
            if (result.IsSuccess)
            {
                Log.Info($"status published on {broker.Mqtt.StatusTopic}");
            }
            else
            {
                Log.Warning($"the broker refused the status on {broker.Mqtt.StatusTopic}: {result.ReasonCode} (0x{(int)result.ReasonCode:x2})");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            EdgeMetrics.StatusMessages.Add(1, EdgeMetrics.Outcome("failed"));
            Log.Warning($"status not published ({e.Message}); it is sent again on the next connect");
        }
        finally
        {
            publishing.Release();
        }
    }

    /// <summary>
    /// The identity to connect with: the one in use, or the pair in the state directory if another
    /// process renewed it meanwhile (a pair that cannot be loaded is logged and the one in use kept).
    /// </summary>
    private X509Certificate2 TakeRenewedOutside()
    {
        var current = Identity;
        X509Certificate2? changed;
        try
        {
            changed = state.ChangedTlsIdentity(current);
        }
        catch (Exception e) when (e is TapirException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            Log.Warning($"the certificate in {state.Directory} cannot be loaded ({e.Message}); connecting with certificate serial {Serial(current)}");
            return current;
        }
        if (changed is null)
        {
            return current;
        }
        Volatile.Write(ref identity, changed);
        Log.Info($"certificate serial {Serial(changed)} from {state.Directory} taken into use (renewed outside the agent; it replaces serial {Serial(current)})");
        renewal?.Adopt(changed);
        return changed;
    }

    /// <summary>Takes a renewed certificate into use: a clean disconnect, then the loop reconnects with it.</summary>
    private void UseRenewed(X509Certificate2 renewed)
    {
        Volatile.Write(ref identity, renewed);
        Log.Info($"reconnecting to take the renewed certificate (serial {Serial(renewed)}) into use");
        var ended = connectionEnded;
        Volatile.Write(ref leaving, true);
        _ = client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build())
            .ContinueWith(_ => ended.TrySetResult(), TaskScheduler.Default);
    }

    private static TimeSpan Backoff(int failures)
    {
        double seconds = Math.Min(LongestBackoff.TotalSeconds, Math.Pow(2, Math.Min(failures - 1, 10)) * 0.5);
        return TimeSpan.FromSeconds(seconds * (0.75 + 0.5 * Random.Shared.NextDouble()));
    }

    private static string Serial(X509Certificate2 certificate) => Convert.ToHexStringLower(certificate.SerialNumberBytes.Span);

    public void Dispose()
    {
        client.Dispose();
        publishing.Dispose();
    }
}
