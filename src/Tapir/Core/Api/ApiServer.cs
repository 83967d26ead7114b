// `tapir core serve`'s HTTPS API on Kestrel (DESIGN §4), started and drained by CoreServer: TLS 1.2/1.3 with the core's server
// certificate; a client certificate is requested on every handshake and, when presented, must be
// a live tapir identity (PeerValidator) or the handshake fails. Enroll, renew, ca and /healthz
// work without one; the other endpoints require one, and every request re-checks it (the serial
// still live, the certificate still valid: ConnectionPeer) so a removal also ends kept-alive connections.
using System.Net;
using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tapir.Config;
using Tapir.Core.Ca;
using Tapir.Core.Enrollment;
using Tapir.Logging;
using Tapir.Metrics;
using Tapir.Storage;

namespace Tapir.Core.Api;

public sealed class ApiServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly X509Certificate2 serverCertificate;
    private readonly TimeSpan shutdownTimeout;
    private readonly PrometheusText metrics = new();
    private int inFlight;

    private ApiServer(CoreContext core)
    {
        shutdownTimeout = core.Config.ShutdownTimeout;
        serverCertificate = core.State.ServerCertificate();
        core.ServerCertificateNotAfter = serverCertificate.NotAfter.ToUniversalTime();
        TapirMetrics.CertificateExpiry = () => MetricsEndpoint.CertificateExpiry(core, core.ServerCertificateNotAfter);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // ProcessSignals owns SIGTERM/SIGINT; the host's console lifetime would take them for itself.
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
        // The drain deadline is Drain's own token; the host's timeout is only a backstop after it.
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = core.Config.ShutdownTimeout + TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(kestrel => Listen(kestrel, core, core.Validator, serverCertificate));
        app = builder.Build();
        app.Run(context => Handle(core, context));
    }

    /// <summary>Starts the API; null when the stop came first.</summary>
    public static async Task<ApiServer?> StartAsync(CoreContext core, CancellationToken stop)
    {
        var api = new ApiServer(core);
        try
        {
            await api.app.StartAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await api.DisposeAsync().ConfigureAwait(false);
            return null;
        }
        Log.Info($"core API listening on https://{core.Config.Listen} (public URL {core.Config.PublicUrl})");
        if (core.Config.MetricsListen.Length > 0)
        {
            Log.Info($"metrics and health on http://{core.Config.MetricsListen}/metrics and /healthz");
        }
        return api;
    }

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync().ConfigureAwait(false);
        serverCertificate.Dispose();
        metrics.Dispose();
    }

    private async Task Handle(CoreContext core, HttpContext context)
    {
        Interlocked.Increment(ref inFlight);
        try
        {
            if (context.Request.IsHttps)
            {
                await Router.Dispatch(core, core.Validator, context).ConfigureAwait(false);
            }
            else
            {
                // Only the plain-HTTP operations listener (core.metrics_listen) serves without TLS.
                await Router.Write(context, MetricsEndpoint.Answer(core, metrics, context.Request)).ConfigureAwait(false);
            }
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e)
        {
            // the client's own fault (short body, bad framing, too slow): not a server error
            Log.Refusal($"{context.Request.Method} {context.Request.Path} from {context.Connection.RemoteIpAddress}: {e.Message}");
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = 400;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.Error($"{context.Request.Method} {context.Request.Path}: {e.GetType().Name}: {e.Message}");
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = 500;
            }
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
        }
    }

    /// <summary>
    /// Picks up a `core key rotate` or `retire`; a key record that cannot be read keeps the keys in
    /// use and is logged once per distinct error (returned, to compare with the next attempt's).
    /// </summary>
    internal static string? RefreshKeys(CoreContext core, string? lastError)
    {
        try
        {
            var before = core.State.DataKey.Kid;
            core.Db(db => { core.State.RefreshKeys(db); return 0; });
            if (core.State.DataKey.Kid != before)
            {
                Log.Info($"core data key now {core.State.DataKey.Kid} (was {before}); trusted JWKS: {string.Join(", ", core.State.TrustedJwks.Keys.Select(k => k.Kid))}");
            }
            return null;
        }
        catch (Exception e) when (e is TapirException or IOException or Microsoft.Data.Sqlite.SqliteException)
        {
            if (e.Message != lastError)
            {
                Log.Error($"core data keys not reloaded, still signing with {core.State.DataKey.Kid}: {e.Message}");
            }
            return e.Message;
        }
    }

    /// <summary>Stops accepting, lets requests in flight finish within the timeout, then closes what is left.</summary>
    public async Task DrainAsync()
    {
        Log.Info($"stopping: no new connections; {Volatile.Read(ref inFlight)} requests in flight, waiting up to {Durations.Format(shutdownTimeout)}");
        using var deadline = new CancellationTokenSource(shutdownTimeout);
        try
        {
            await app.StopAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        // Connections closed at the deadline end their handlers at the next read or write.
        for (int i = 0; i < 20 && Volatile.Read(ref inFlight) > 0; i++)
        {
            await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
        }
        if (deadline.IsCancellationRequested || Volatile.Read(ref inFlight) > 0)
        {
            Log.Warning($"drain timed out after {Durations.Format(shutdownTimeout)}: remaining connections closed ({Volatile.Read(ref inFlight)} handlers still running)");
        }
        Log.FlushRefusals();
        Log.Info("core API stopped");
    }

    /// <summary>A host lifetime that takes no signals and waits for nothing.</summary>
    private sealed class NoSignalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static void Listen(KestrelServerOptions kestrel, CoreContext core, PeerValidator validator, X509Certificate2 serverCertificate)
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxRequestBodySize = core.Config.AggregateMaxBytes;
        kestrel.Listen(Endpoint(core.Config.Listen, "core.listen"), listen =>
        {
            // HTTP/1.1 only: what nodeman and aggrec clients speak, and the connection a
            // revoked peer's request is dropped on is then exactly that peer's.
            listen.Protocols = HttpProtocols.Http1;
            listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = serverCertificate,
                SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                ClientCertificateValidation = (certificate, _, _) => Accept(validator, certificate),
                CheckCertificateRevocation = false,
                // TLS's own chain build: the tapir root alone, no download of any URL a client certificate names.
                OnAuthenticate = (_, ssl) => ssl.CertificateChainPolicy = Tapir.Security.Pki.ChainValidator.Policy(core.State.Root),
            });
        });
        if (core.Config.MetricsListen.Length > 0)
        {
            kestrel.Listen(Endpoint(core.Config.MetricsListen, "core.metrics_listen"), listen => listen.Protocols = HttpProtocols.Http1);
        }
    }

    private static bool Accept(PeerValidator validator, X509Certificate2 certificate)
    {
        if (validator.TryNodeOf(certificate, out _, out var why))
        {
            return true;
        }
        Log.Refusal($"TLS handshake refused: client certificate {certificate.Subject} serial {certificate.SerialNumber} is not a live tapir identity ({why})");
        return false;
    }

    internal static IPEndPoint Endpoint(string listen, string key)
    {
        int colon = listen.LastIndexOf(':');
        string host = listen[..colon].Trim('[', ']');
        if (!IPAddress.TryParse(host, out var address))
        {
            address = host == "localhost" ? IPAddress.Loopback : throw new TapirException($"{key}: '{host}' is not an IP address.");
        }
        return new IPEndPoint(address, int.Parse(listen[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
