// The API's routes (DESIGN §4): a small explicit dispatcher, no reflection-based binding. Thin
// handlers: read the bounded body, call the service, write the result, log every refusal with
// node, client address and reason (Log.Refusal: bounded under a flood), and feed failures to the
// rate limiter. The peer is the connection's validated identity, re-checked per request (ConnectionPeer).
using Microsoft.AspNetCore.Http;
using Tapir.Core.Aggregates;
using Tapir.Core.Ca;
using Tapir.Core.Enrollment;
using Tapir.Logging;
using Tapir.Metrics;
using Tapir.Security;
using Tapir.Security.Pki;
using Tapir.Storage;

namespace Tapir.Core.Api;

public static class Router
{
    public static async Task Dispatch(CoreContext core, PeerValidator validator, HttpContext context)
    {
        var request = context.Request;
        string address = context.Connection.RemoteIpAddress?.ToString() ?? "-";
        var certificate = context.Connection.ClientCertificate;
        string? peer = null;
        if (certificate is not null && !ConnectionPeer.TryNodeOf(validator, context, certificate, out peer, out var why))
        {
            // Valid at the handshake, not any more (revoked, removed, expired): refuse and close the connection.
            var refusal = WireAnswers.Refuse(why, "client certificate", $"serial {certificate.SerialNumber}");
            Log.Refusal($"{request.Method} {request.Path} from {address}: {refusal.Status} {refusal.Reason} ({refusal.Detail})");
            // Connection: close ends the connection after this answer; an abort could reset it before the answer is sent.
            context.Response.Headers.Connection = "close";
            await Write(context, refusal);
            return;
        }
        string[] parts = request.Path.Value?.Trim('/').Split('/') ?? [];
        ApiResult result = (request.Method, parts) switch
        {
            ("GET", ["healthz"]) => new ApiResult(200, "ok\n", "text/plain"),
            ("GET", ["api", "v1", "ca"]) => NodeDirectory.Ca(core),
            ("POST", ["api", "v1", "node", var name, "enroll"]) => await Limited(core, context, peer, body => EnrollmentService.Enroll(core, name, body)),
            ("POST", ["api", "v1", "node", var name, "renew"]) => await Limited(core, context, peer, body => RenewalService.Renew(core, name, body, peer)),
            (_, ["api", "v1", ..]) when peer is null => ApiResult.Refuse(401, "a tapir client certificate is required"),
            ("POST", ["api", "v1", "aggregate", var type]) => await AggregateReceiver.Submit(core, context, type, peer),
            ("GET", ["api", "v1", "aggregates", var id]) => AggregateReader.Metadata(core, id, peer),
            ("GET", ["api", "v1", "aggregates", var id, "payload"]) => AggregateReader.Payload(core, id, peer),
            ("GET", ["api", "v1", "jwks"]) => NodeDirectory.Jwks(core),
            ("GET", ["api", "v1", "crl"]) => Crl(core),
            ("GET", ["api", "v1", "node", var name, "public_key"]) => NodeDirectory.PublicKey(core, name, request.Headers.Accept.ToString().Contains("application/x-pem-file", StringComparison.Ordinal)),
            ("GET", ["api", "v1", "node", var name, "configuration"]) => name == peer ? NodeDirectory.Configuration(core, name) : ApiResult.Refuse(403, "only the node itself reads its configuration"),
            _ => ApiResult.Refuse(404, "no such endpoint"),
        };
        Count(request, parts, result);
        if (result.Status >= 400)
        {
            // The wire's short reason, then the detail only the log gets.
            Log.Refusal($"{request.Method} {request.Path} from {address}{(peer is null ? "" : $" ({peer})")}: {result.Status} {result.Reason ?? result.Text}{(result.Detail is null ? "" : $" ({result.Detail})")}");
        }
        await Write(context, result);
    }

    /// <summary>Failures count against the mTLS peer, or else the client address, never the name in the URL;
    /// a 429 is not itself a failure (FailureLimiter).</summary>
    /// <summary>The metrics of DESIGN §8 / issue 13: enrollments, renewals and aggregates by outcome and reason.</summary>
    private static void Count(HttpRequest request, string[] parts, ApiResult result)
    {
        switch (request.Method, parts)
        {
            case ("POST", ["api", "v1", "node", _, "enroll"]):
                TapirMetrics.CountAnswer(TapirMetrics.Enrollments, result.Status, result.Reason, "issued");
                break;
            case ("POST", ["api", "v1", "node", _, "renew"]):
                TapirMetrics.CountAnswer(TapirMetrics.Renewals, result.Status, result.Reason, "issued");
                break;
            case ("POST", ["api", "v1", "aggregate", _]):
                TapirMetrics.CountAnswer(TapirMetrics.Aggregates, result.Status, result.Reason, "accepted");
                if (result.Status < 400 && request.ContentLength is long bytes)
                {
                    TapirMetrics.AggregateBytes.Add(bytes);
                }
                break;
        }
    }

    private static async Task<ApiResult> Limited(CoreContext core, HttpContext context, string? peer, Func<byte[], ApiResult> handle)
    {
        var now = core.Clock.GetUtcNow();
        string key = FailureLimiter.Key(peer, context.Connection.RemoteIpAddress);
        if (core.Failures.IsLimited(key, now))
        {
            return ApiResult.Refuse(429, "too many failed attempts; try later");
        }
        byte[]? body = await ReadBody(context.Request, EnrollmentService.MaxBodyBytes);
        var result = body is null ? WireAnswers.Refuse(Rejection.TooLarge, "request body") : handle(body);
        if (result.Status is >= 400 and < 500)
        {
            core.Failures.Fail(key, now);
        }
        else
        {
            Log.Info($"{context.Request.Path} from {key}: {result.Status}");
        }
        return result;
    }

    private static async Task<byte[]?> ReadBody(HttpRequest request, int limit)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                return null;
            }
        }
        return buffer.ToArray();
    }

    private static ApiResult Crl(CoreContext core)
    {
        var now = core.Clock.GetUtcNow();
        var revoked = core.Db(CoreDatabase.Revoked).Select(r => (Convert.FromHexString(r.Serial), DateTimeOffset.FromUnixTimeSeconds(r.RevokedAt)));
        long number = core.Db(db => CoreDatabase.NextCrlNumber(db, now.ToUnixTimeSeconds()));
        byte[] crl = CaProfile.BuildCrl(core.State.Root, core.State.RootKey, revoked, number, now);
        return new ApiResult(200, crl, "application/pkix-crl");
    }

    internal static async Task Write(HttpContext context, ApiResult result)
    {
        context.Response.StatusCode = result.Status;
        context.Response.ContentType = result.ContentType;
        if (result.Content is Stream content)
        {
            await using (content)
            {
                context.Response.ContentLength = content.Length;
                await content.CopyToAsync(context.Response.Body, context.RequestAborted);
            }
            return;
        }
        context.Response.ContentLength = result.Body.Length;
        await context.Response.Body.WriteAsync(result.Body);
    }
}
