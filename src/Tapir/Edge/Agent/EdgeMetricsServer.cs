// The edge's plain-HTTP operations listener (edge.metrics_listen, off by default; issue 13): the
// same GET /metrics (the "tapir.edge" meter, EdgeMetrics) and GET /healthz as the core's listener,
// answered by MetricsEndpoint.Serve on Kestrel. /healthz says whether the agent is connected to the
// broker and how long its certificate has left: 200 when connected with a certificate that has not
// expired, else 503. No TLS, no client identity, nothing else served.
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tapir.Core.Api;
using Tapir.Core.Enrollment;
using Tapir.Logging;
using Tapir.Metrics;

namespace Tapir.Edge.Agent;

public sealed class EdgeMetricsServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly PrometheusText metrics = new(EdgeMetrics.MeterName);

    private EdgeMetricsServer(string listen)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // ProcessSignals owns SIGTERM/SIGINT; the agent stops this listener itself.
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(ApiServer.Endpoint(listen, "edge.metrics_listen"), l => l.Protocols = HttpProtocols.Http1);
        });
        app = builder.Build();
        app.Run(context => Router.Write(context, MetricsEndpoint.Serve(metrics, context.Request, Health)));
    }

    /// <summary>Starts the listener on edge.metrics_listen.</summary>
    public static async Task<EdgeMetricsServer> StartAsync(string listen)
    {
        var server = new EdgeMetricsServer(listen);
        try
        {
            await server.app.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await server.app.DisposeAsync().ConfigureAwait(false);
            server.metrics.Dispose();
            throw;
        }
        Log.Info($"metrics and health on http://{listen}/metrics and /healthz");
        return server;
    }

    private static ApiResult Health()
    {
        if (EdgeMetrics.State() is not EdgeGaugeState s)
        {
            return MetricsEndpoint.HealthAnswer(false, ["agent not started"]);
        }
        var left = TimeSpan.FromSeconds(Math.Max(0, s.CertificateSecondsLeft));
        string certificate = s.CertificateSecondsLeft > 0
            ? $"certificate ok: serial {s.CertificateSerial}, {(long)left.TotalSeconds}s left"
            : $"certificate expired: serial {s.CertificateSerial}";
        return MetricsEndpoint.HealthAnswer(s.Connected && s.CertificateSecondsLeft > 0,
            [s.Connected ? "broker connected" : "broker not connected", certificate]);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        metrics.Dispose();
    }

    /// <summary>A host lifetime that takes no signals and waits for nothing.</summary>
    private sealed class NoSignalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
