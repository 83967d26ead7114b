// The real core's operations listener (core.metrics_listen): plain HTTP, /metrics counts what the
// API answered (an enrollment issued, one refused with its wire reason), the certificate expiry
// gauges, /healthz with the database and certificate state; no API route is served there and no
// metrics route on the API; "" turns the listener off.
using System.Net;

namespace Tapir.Tests.Metrics;

public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task MetricsCountEnrollmentsAndHealthReportsTheState()
    {
        using var core = new Tapir.Tests.Core.CoreProcess();
        int port = Tapir.Tests.Core.CoreProcess.FreePort();
        core.Environment["TAPIR_CORE__METRICS_LISTEN"] = $"127.0.0.1:{port}";
        core.Start();
        string credentials = core.AddNode("edge1.example.net");
        var enrolled = core.Tapir("edge", "enroll", "--credentials", credentials, "--state", core.File("edge"));
        Assert.True(enrolled.ExitCode == 0, enrolled.Stderr);
        var refused = core.Tapir("edge", "enroll", "--credentials", credentials, "--state", core.File("edge2"));
        Assert.NotEqual(0, refused.ExitCode); // the secret is spent
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var metrics = await http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metrics.Content.Headers.ContentType!.ToString());
        var samples = PrometheusGrammar.Check(await metrics.Content.ReadAsStringAsync());
        Assert.Equal(1, samples["tapir_enrollments_total{outcome=\"issued\"}"]);
        Assert.Equal(1, samples["tapir_enrollments_total{outcome=\"refused\",reason=\"enrollment refused\"}"]);
        Assert.InRange(samples["tapir_certificate_expiry_seconds{certificate=\"server\"}"], 396 * 86400.0, 397 * 86400.0);
        Assert.True(samples["tapir_certificate_expiry_seconds{certificate=\"ca\"}"] > 397 * 86400.0);
        Assert.Equal(0, samples.GetValueOrDefault("tapir_mqtt_connections"));
        var health = await http.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Matches($"^database ok\nbroker ok: listening on 127.0.0.1:{core.MqttPort}\nca certificate ok: [0-9]+d left\nserver certificate ok: 39[67]d left\n$", await health.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("api/v1/jwks")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync("api/v1/node/edge1.example.net/enroll", new StringContent("{}"))).StatusCode);
        using var api = Tapir.Tests.Core.EnrollmentClient.Client(core);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("metrics")).StatusCode);
    }

    [Fact]
    public async Task MetricsCountVerifiedAndRefusedMqttMessagesAndConnections()
    {
        int port = Tapir.Tests.Core.CoreProcess.FreePort();
        using var broker = new Tapir.Tests.Mqtt.BrokerCore(port);
        string edge = Tapir.Tests.Mqtt.BrokerCore.Edge1;
        var report = broker.MqttJs(edge, 5, edge, [
            Tapir.Tests.Mqtt.Steps.PublishSigned($"events/up/{edge}/x", broker.DataKey(edge), "{\"n\":1}"),
            Tapir.Tests.Mqtt.Steps.Publish($"events/up/{edge}/x", "{\"unsigned\":true}"),
        ]);
        Assert.Equal([0, 135], report.Puback);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var samples = PrometheusGrammar.Check(await http.GetStringAsync("metrics"));
        Assert.Equal(1, samples["tapir_mqtt_messages_total{outcome=\"verified\"}"]);
        Assert.Equal(0, samples["tapir_event_log_lag"]); // the PUBACK came after the commit
        Assert.Equal(1, samples["tapir_mqtt_messages_total{outcome=\"refused\",reason=\"Malformed\"}"]);
        // The peer has disconnected; the broker may notice a moment after the peer returned.
        for (int i = 0; i < 40 && samples["tapir_mqtt_connections"] != 0; i++)
        {
            await Task.Delay(50);
            samples = PrometheusGrammar.Check(await http.GetStringAsync("metrics"));
        }
        Assert.Equal(0, samples["tapir_mqtt_connections"]);
    }

    [Fact]
    public void AnEmptyMetricsListenTurnsTheListenerOff()
    {
        using var core = new Tapir.Tests.Core.CoreProcess();
        core.Start(); // CoreProcess sets TAPIR_CORE__METRICS_LISTEN to ""
        Assert.DoesNotContain("metrics and health on", core.LogText);
        Assert.Equal(new[] { core.Port, core.MqttPort }.Order(), ListeningPorts(core.Pid));
    }

    /// <summary>The TCP ports a process listens on: its socket inodes matched against /proc/net/tcp{,6} LISTEN rows.</summary>
    internal static int[] ListeningPorts(int pid)
    {
        var inodes = Directory.GetFiles($"/proc/{pid}/fd").Select(fd => new FileInfo(fd).LinkTarget ?? "")
            .Where(t => t.StartsWith("socket:[", StringComparison.Ordinal)).Select(t => t[8..^1]).ToHashSet();
        return new[] { "/proc/net/tcp", "/proc/net/tcp6" }.SelectMany(File.ReadLines).Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 9 && f[3] == "0A" && inodes.Contains(f[9]))
            .Select(f => Convert.ToInt32(f[1][(f[1].LastIndexOf(':') + 1)..], 16)).Distinct().Order().ToArray();
    }
}
