// Certificate renewal (DESIGN §4.3): a new P-256 key and CSR, a JWS by the data key only, posted
// over mTLS with the current certificate (without one if the core refuses it: see PostAsync); the
// new pair replaces the old only once fully written, under the state directory's renew.lock.
// A failed attempt keeps the old certificate and is retried with exponential backoff and jitter.
// The agent renews at two thirds of the lifetime (DueAt).
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tapir.Core.Enrollment;
using Tapir.Edge.Enroll;
using Tapir.Logging;
using Tapir.Security.Jose;
using Tapir.Security.Pki;

namespace Tapir.Edge.Renew;

public static class Renewer
{
    /// <summary>When to renew: two thirds into the lifetime, minus up to 5% of it as jitter.</summary>
    public static DateTimeOffset DueAt(X509Certificate2 certificate)
    {
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var lifetime = new DateTimeOffset(certificate.NotAfter.ToUniversalTime()) - notBefore;
        var jitter = TimeSpan.FromTicks((long)(lifetime.Ticks * 0.05 * Random.Shared.NextDouble()));
        return notBefore + lifetime * 2 / 3 - jitter;
    }

    /// <summary>
    /// Renews, retrying failed attempts with backoff. Each attempt waits at most <paramref name="timeout"/>
    /// for the core; an attempt that runs out of time fails like any other, and after the last one
    /// the caller gets a TimeoutException, never the cancellation of an internal timer.
    /// </summary>
    public static async Task<string> RenewWithRetryAsync(EdgeState state, TimeProvider clock, int attempts, TimeSpan firstDelay, TimeSpan timeout, CancellationToken cancel)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await RenewWithinAsync(state, clock, timeout, cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < attempts && e is TapirException or HttpRequestException or IOException or TimeoutException && !cancel.IsCancellationRequested)
            {
                var delay = firstDelay * Math.Pow(2, attempt - 1) * (0.75 + 0.5 * Random.Shared.NextDouble());
                Log.Warning($"renewal attempt {attempt} failed ({e.Message}{(e.InnerException is null ? "" : ": " + e.InnerException.Message)}); keeping the current certificate, retrying in {delay.TotalSeconds:F1} s");
                await Task.Delay(delay, cancel).ConfigureAwait(false);
            }
        }
    }

    private static async Task<string> RenewWithinAsync(EdgeState state, TimeProvider clock, TimeSpan timeout, CancellationToken cancel)
    {
        // One renewal of a state directory at a time (EdgeState.LockRenewalAsync): two at once could
        // interleave their writes of the new pair, and the core revokes a node's certificate when it
        // issues the next one, so the pair left on disk could be one already revoked.
        using var held = await state.LockRenewalAsync(timeout, cancel).ConfigureAwait(false);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(timeout);
        try
        {
            return await RenewAsync(state, clock, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancel.IsCancellationRequested)
        {
            // Our limit, or HttpClient's own timeout: either way the core did not answer in time.
            throw new TimeoutException($"no answer from the core within {Config.Durations.Format(timeout)}", e);
        }
    }

    public static async Task<string> RenewAsync(EdgeState state, TimeProvider clock, CancellationToken cancel)
    {
        var bootstrap = state.ReadBootstrap();
        var dataKey = state.DataKey();
        using var root = state.Root();
        using var identity = state.TlsIdentity();
        using var newKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string payload = Json.Object(w =>
        {
            w.WriteString("timestamp", clock.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("x509_csr", Enroller.Csr(bootstrap.Name, newKey));
        });
        string jws = JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(payload), dataKey);
        using var response = await PostAsync(bootstrap, root, identity, jws, cancel).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new TapirException($"renewal refused: {(int)response.StatusCode} {body.Trim()}");
        }
        using var doc = JsonDocument.Parse(body);
        string pem = doc.RootElement.GetProperty("x509_certificate").GetString()!;
        CoreClient.CheckIssued(pem, bootstrap.Name, newKey, root);
        state.ReplaceTls(newKey, pem);
        return $"renewed {bootstrap.Name}: serial {doc.RootElement.GetProperty("x509_certificate_serial_number").GetString()}, valid until {doc.RootElement.GetProperty("x509_certificate_not_valid_after").GetString()}";
    }

    /// <summary>
    /// Posts over mTLS with the current certificate; if that connection fails, once more without a
    /// client certificate. The core revokes a certificate when it commits its successor, so an edge
    /// whose renewal answer was lost holds a certificate the handshake now refuses; the data-key
    /// signature alone authenticates a renewal (DESIGN §4.3), so it can still recover.
    /// </summary>
    private static async Task<HttpResponseMessage> PostAsync(Bootstrap bootstrap, X509Certificate2 root, X509Certificate2 identity, string jws, CancellationToken cancel)
    {
        string path = $"api/v1/node/{bootstrap.Name}/renew";
        try
        {
            using var client = CoreClient.Create(bootstrap.NodemanUrl, root, identity);
            return await client.PostAsync(path, new StringContent(jws, System.Text.Encoding.UTF8, "application/jose+json"), cancel).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (!cancel.IsCancellationRequested)
        {
            Log.Warning($"renewal over mTLS failed ({e.Message}); trying once without the client certificate (the data-key signature authenticates a renewal)");
            using var client = CoreClient.Create(bootstrap.NodemanUrl, root);
            return await client.PostAsync(path, new StringContent(jws, System.Text.Encoding.UTF8, "application/jose+json"), cancel).ConfigureAwait(false);
        }
    }
}
