// `tapir edge submit` (DESIGN §5.1, §5.2): one aggregate, streamed from its file (hashed in a first
// pass, sent in a second, never loaded whole) with Content-Length, Content-Digest sha-256 and the
// edm signature profile (content-type, content-length, content-digest, plus aggregate-interval when
// given; created; alg when the key has an RFC 9421 name, else none; keyid = the node), over mTLS
// with the enrolled certificate to the pinned core. Connection failures, 429 and 503 are retried
// with backoff (each attempt signed afresh); any other refusal is reported with the core's reason.
// Every attempt is recorded in the outbound audit log (Audit/OutboundAudit.cs).
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Tapir.Edge.Audit;
using Tapir.Logging;
using Tapir.Security.HttpSignatures;

namespace Tapir.Edge.Submit;

public sealed record SubmitRequest(string File, string Type, string ContentType, string? Interval);

public static class Submitter
{
    public static async Task<string> SubmitWithRetryAsync(EdgeState state, SubmitRequest submission, TimeProvider clock, int attempts, TimeSpan firstDelay, CancellationToken cancel)
    {
        var (sha256, length) = await DigestAsync(submission.File, cancel).ConfigureAwait(false);
        string digest = $"sha-256=:{Convert.ToBase64String(sha256)}:";
        var bootstrap = state.ReadBootstrap();
        var target = new Uri(bootstrap.NodemanUrl, $"api/v1/aggregate/{Uri.EscapeDataString(submission.Type)}");
        for (int attempt = 1; ; attempt++)
        {
            string? transient;
            // Every attempt that may have left the machine is recorded with what came back.
            void Audit(string outcome) => OutboundAudit.Append(state.Directory,
                new AuditRecord(clock.GetUtcNow(), "aggregate", target.AbsoluteUri, length, Convert.ToHexStringLower(sha256), "sig1", bootstrap.Name, outcome));
            try
            {
                using var response = await SendAsync(state, submission, target, digest, clock, cancel).ConfigureAwait(false);
                string body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.Created && response.Headers.Location is Uri location)
                {
                    Audit($"201 {location.OriginalString}");
                    return location.OriginalString;
                }
                Audit($"{(int)response.StatusCode} {Reason(body)}");
                transient = response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable ? $"{(int)response.StatusCode} {Reason(body)}" : null;
                if (transient is null || attempt >= attempts)
                {
                    throw new TapirException($"the core refused the aggregate: {(int)response.StatusCode} {Reason(body)}");
                }
            }
            catch (HttpRequestException e)
            {
                Audit($"not sent or no answer: {e.Message}");
                if (attempt >= attempts || cancel.IsCancellationRequested)
                {
                    throw;
                }
                transient = e.Message;
            }
            catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
            {
                Audit("no answer in time");
                if (attempt >= attempts)
                {
                    throw;
                }
                transient = "no answer in time";
            }
            var delay = firstDelay * Math.Pow(2, attempt - 1) * (0.75 + 0.5 * Random.Shared.NextDouble());
            Log.Warning($"submission attempt {attempt} failed ({transient}); retrying in {delay.TotalSeconds:F1} s");
            await Task.Delay(delay, cancel).ConfigureAwait(false);
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(EdgeState state, SubmitRequest submission, Uri target, string digest, TimeProvider clock, CancellationToken cancel)
    {
        var bootstrap = state.ReadBootstrap();
        var key = state.DataKey();
        using var root = state.Root();
        using var identity = state.TlsIdentity();
        using var client = CoreClient.Create(bootstrap.NodemanUrl, root, identity);
        client.Timeout = TimeSpan.FromMinutes(10); // a large body on a slow link
        var file = new FileStream(submission.File, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var content = new StreamContent(file, 1 << 16);
        content.Headers.TryAddWithoutValidation("Content-Type", submission.ContentType);
        content.Headers.ContentLength = file.Length;
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = content };
        request.Headers.TryAddWithoutValidation("Content-Digest", digest);
        // A larger body waits for the core's go-ahead (100 Continue), so a refusal (413, a bad signature)
        // arrives as an answer instead of a connection reset halfway through the upload.
        request.Headers.ExpectContinue = file.Length > 64 * 1024;
        var components = new List<string>(HttpSigner.EdmComponents);
        if (submission.Interval is string interval)
        {
            request.Headers.TryAddWithoutValidation("Aggregate-Interval", interval);
            components.Add("aggregate-interval");
        }
        var signature = HttpSigner.Sign(SigningHandler.ToMessage(request, []), key, bootstrap.Name, clock.GetUtcNow(), components);
        request.Headers.TryAddWithoutValidation("Signature-Input", signature.SignatureInput);
        request.Headers.TryAddWithoutValidation("Signature", signature.Signature);
        return await client.SendAsync(request, cancel).ConfigureAwait(false);
    }

    /// <summary>The file's SHA-256 and length, read in one streaming pass.</summary>
    private static async Task<(byte[] Sha256, long Length)> DigestAsync(string path, CancellationToken cancel)
    {
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await file.ReadAsync(buffer, cancel).ConfigureAwait(false)) > 0)
        {
            sha256.AppendData(buffer, 0, read);
        }
        return (sha256.GetHashAndReset(), file.Length);
    }

    /// <summary>The core's short reason from its {"error": …} answer, else the body as sent.</summary>
    private static string Reason(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
            {
                return error.GetString()!;
            }
        }
        catch (JsonException)
        {
        }
        return body.Trim();
    }
}
