// The core's plain-HTTP operations listener (core.metrics_listen, default 127.0.0.1:9464; issue 13):
// GET /metrics in Prometheus text format and GET /healthz, the state of the database, the MQTT
// broker (listening, or in external mode the connection to it) and the core's own certificates, 200 when all is well and 503 when not. Nothing else is served there,
// and none of the API is: the listener has no TLS and no client identity. `tapir edge run` serves
// the same two paths on edge.metrics_listen through Serve (Edge/Agent/EdgeMetricsServer.cs).
using Microsoft.AspNetCore.Http;
using Tapir.Core.Enrollment;
using Tapir.Metrics;

namespace Tapir.Core.Api;

public static class MetricsEndpoint
{
    /// <summary>A certificate with less than this left makes /healthz answer 503.</summary>
    public static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(7);

    public static ApiResult Answer(CoreContext core, PrometheusText metrics, HttpRequest request) => Serve(metrics, request, () => Health(core));

    /// <summary>GET /metrics from the exposition, GET /healthz from the process's own check, 404 for anything else.</summary>
    public static ApiResult Serve(PrometheusText metrics, HttpRequest request, Func<ApiResult> health) => (request.Method, request.Path.Value) switch
    {
        ("GET", "/metrics") => new ApiResult(200, metrics.Scrape(), PrometheusText.ContentType),
        ("GET", "/healthz") => health(),
        _ => ApiResult.Refuse(404, "only /metrics and /healthz are served here"),
    };

    /// <summary>A /healthz answer: one line per check, 200 when all are well, else 503.</summary>
    public static ApiResult HealthAnswer(bool healthy, IEnumerable<string> lines) =>
        new(healthy ? 200 : 503, string.Join("\n", lines) + "\n", "text/plain; charset=utf-8");

    /// <summary>Seconds left on the core's own certificates, for the expiry gauge.</summary>
    public static IEnumerable<(string, double)> CertificateExpiry(CoreContext core, DateTime serverNotAfter)
    {
        var now = core.Clock.GetUtcNow().UtcDateTime;
        return [("ca", (core.State.Root.NotAfter.ToUniversalTime() - now).TotalSeconds), ("server", (serverNotAfter.ToUniversalTime() - now).TotalSeconds)];
    }

    private static ApiResult Health(CoreContext core)
    {
        var lines = new List<string>();
        bool healthy = true;
        try
        {
            core.Db(db =>
            {
                using var cmd = db.CreateCommand();
                cmd.CommandText = "SELECT 1";
                return cmd.ExecuteScalar();
            });
            lines.Add("database ok");
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or ObjectDisposedException or InvalidOperationException)
        {
            healthy = false;
            lines.Add($"database failing: {e.Message}");
        }
        if (core.BrokerConnected is bool connected)
        {
            healthy &= connected;
            lines.Add(connected ? $"broker ok: connected to the external broker {core.Config.MqttUrl.OriginalString}" : $"broker not connected: external broker {core.Config.MqttUrl.OriginalString}");
        }
        else
        {
            healthy &= core.BrokerListening;
            lines.Add(core.BrokerListening ? $"broker ok: listening on {core.Config.MqttListen}" : "broker not listening");
        }
        foreach (var (name, secondsLeft) in CertificateExpiry(core, core.ServerCertificateNotAfter))
        {
            var left = TimeSpan.FromSeconds(Math.Max(0, secondsLeft));
            bool ok = left > ExpiryWarning;
            healthy &= ok;
            lines.Add($"{name} certificate {(ok ? "ok" : secondsLeft <= 0 ? "expired" : "expiring")}: {Math.Floor(left.TotalDays)}d left");
        }
        return HealthAnswer(healthy, lines);
    }
}
