// POST /api/v1/aggregate/{type} (DESIGN §5.1–5.3), for an mTLS peer: a configured type; exactly
// one field line of each header that matters; Content-Length required and within the limit
// (chunked refused, 413 before any byte is read); a configured Content-Type; a parseable
// Content-Digest; the RFC 9421 signature under the §5.2 policy with keyid = the peer (its data key
// looked up once per connection), verified
// before the body is read; then the body hashed as it streams (into memory up to
// core.aggregate_inline_max, else into a temporary file) and checked against Content-Digest; then
// AggregateStore makes it durable and only then 201 + Location. Every refusal is a WireAnswers answer.
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Tapir.Core.Api;
using Tapir.Core.Enrollment;
using Tapir.Logging;
using Tapir.Security;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Core.Aggregates;

public static partial class AggregateReceiver
{
    /// <summary>Fields that must not appear on more than one line: two lines would be two readings.</summary>
    private static readonly string[] SingleFields = ["Content-Type", "Content-Length", "Content-Digest", "Signature-Input", "Signature", "Aggregate-Interval"];

    public static async Task<ApiResult> Submit(CoreContext core, HttpContext context, string type, string peer)
    {
        if (!core.Config.AggregateTypes.Contains(type, StringComparer.Ordinal))
        {
            return WireAnswers.UnknownAggregateType($"type '{(type.Length > 64 ? type[..64] + "…" : type)}' ({type.Length} chars)");
        }
        var request = context.Request;
        if (CheckHeaders(core, request) is ApiResult refused)
        {
            return refused;
        }
        var now = core.Clock.GetUtcNow();
        if (DataKeyOf(core, context, peer) is not (Jwk key, string dataKey, string thumbprint))
        {
            return WireAnswers.Refuse(Rejection.CertificateRevoked, "client certificate", $"node {peer} is not enrolled");
        }
        string? asked = null;
        var policy = HttpSignaturePolicy.Aggregates(core.Config.AggregateMaxAge);
        if (!SignedRequest.TryVerify(request, policy, kid => (asked = kid) == peer ? key : null, now, out var verified, out var why))
        {
            return why == Rejection.KeyNotFound && asked is not null
                ? WireAnswers.Refuse(Rejection.NameMismatch, "keyid", $"keyid \"{Shorten(asked)}\" on a request from {peer}")
                : WireAnswers.Refuse(why, "signature");
        }
        var record = new AggregateRecord(AggregateStore.NewId(), type, peer, now.ToUnixTimeMilliseconds(), request.ContentType!, request.ContentLength!.Value,
            request.Headers["Content-Digest"].ToString(), [], request.Headers["Aggregate-Interval"].FirstOrDefault(), verified!.SignatureInputField,
            verified.SignatureField, verified.Label, ComponentsJson(verified.ComponentValues), verified.SignatureBase, dataKey, thumbprint, null);
        return await Receive(core, context, record).ConfigureAwait(false);
    }

    private static readonly object DataKeyItem = new();

    private sealed record KeptKey(string Node, Jwk Key, string DataKey, string Thumbprint);

    /// <summary>The peer's data key as enrolled. It never changes while the node's certificate is live (Router
    /// re-checks that per request), so it is looked up once per connection and kept in the connection's items.</summary>
    private static (Jwk Key, string DataKey, string Thumbprint)? DataKeyOf(CoreContext core, HttpContext context, string peer)
    {
        var items = ConnectionPeer.ItemsOf(context);
        if (items is not null && items.TryGetValue(DataKeyItem, out object? kept) && kept is KeptKey entry && entry.Node == peer)
        {
            return (entry.Key, entry.DataKey, entry.Thumbprint);
        }
        var row = core.Db(db => CoreDatabase.GetNode(db, peer));
        if (row is not { State: "enrolled", DataKey: string dataKey, DataKeyThumbprint: string thumbprint }
            || !JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(dataKey), out var key, out _))
        {
            return null;
        }
        if (items is not null)
        {
            items[DataKeyItem] = new KeptKey(peer, key, dataKey, thumbprint);
        }
        return (key, dataKey, thumbprint);
    }

    /// <summary>Reads and hashes the body, checks its digest, stores it; a temporary file never outlives the request.</summary>
    private static async Task<ApiResult> Receive(CoreContext core, HttpContext context, AggregateRecord record)
    {
        bool inline = record.ContentLength <= core.Config.AggregateInlineMax;
        byte[]? payload = inline ? new byte[record.ContentLength] : null;
        string? temporary = inline ? null : AggregateStore.NewTemporaryFile(core);
        try
        {
            using var digest = new ContentDigest();
            await using (var file = temporary is null ? null : new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                if (await ReadBody(context, record, digest, payload, file).ConfigureAwait(false) is ApiResult refused)
                {
                    return refused;
                }
                file?.Flush(flushToDisk: true);
            }
            var (id, existing) = await AggregateStore.StoreAsync(core, record with { Sha256 = digest.Sha256 }, payload, temporary).ConfigureAwait(false);
            string location = $"/api/v1/aggregates/{id}";
            context.Response.Headers.Location = location;
            Log.Info($"aggregate {id} {(existing ? "resubmitted" : "stored")}: {record.Type}, {record.ContentLength} bytes from {record.Creator}");
            return new ApiResult(201, Json.Object(w => { w.WriteString("aggregate_id", id); w.WriteString("location", location); }));
        }
        finally
        {
            if (temporary is not null)
            {
                File.Delete(temporary); // gone already when it was moved into place
            }
        }
    }

    /// <summary>Streams the body into the buffer or the file while hashing it: a refusal, or null when it is whole and matches Content-Digest.</summary>
    private static async Task<ApiResult?> ReadBody(HttpContext context, AggregateRecord record, ContentDigest digest, byte[]? payload, FileStream? file)
    {
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Clamp(record.ContentLength + 1, 4096, 1 << 16));
        long total = 0;
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (total + read > record.ContentLength)
                {
                    return WireAnswers.Refuse(Rejection.TooLarge, "body", "longer than Content-Length");
                }
                digest.Append(buffer.AsSpan(0, read));
                if (payload is not null)
                {
                    buffer.AsSpan(0, read).CopyTo(payload.AsSpan((int)total));
                }
                else
                {
                    await file!.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted).ConfigureAwait(false);
                }
                total += read;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or BadHttpRequestException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            // The client closed or broke the framing mid-body: nobody is left to answer, and nothing is kept.
            Log.Refusal($"aggregate from {record.Creator}: body ended after {total} of {record.ContentLength} bytes ({e.GetType().Name}); nothing stored");
            throw;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        if (total != record.ContentLength)
        {
            return WireAnswers.Refuse(Rejection.Malformed, "body", $"{total} bytes, Content-Length {record.ContentLength}");
        }
        return digest.TryMatch(record.ContentDigest, out var why) ? null : WireAnswers.Refuse(why, "Content-Digest");
    }

    private static ApiResult? CheckHeaders(CoreContext core, HttpRequest request)
    {
        foreach (string name in SingleFields)
        {
            if (request.Headers[name].Count > 1)
            {
                return WireAnswers.Refuse(Rejection.DuplicateMember, name, "sent on more than one field line");
            }
        }
        if (request.Headers.TransferEncoding.Count > 0)
        {
            return WireAnswers.Refuse(Rejection.ParameterNotAllowed, "Transfer-Encoding", "chunked bodies are refused; Content-Length is required");
        }
        if (request.ContentLength is not long length)
        {
            return WireAnswers.Refuse(Rejection.ParameterMissing, "Content-Length");
        }
        if (length > core.Config.AggregateMaxBytes)
        {
            return WireAnswers.Refuse(Rejection.TooLarge, "body", $"Content-Length {length} above {core.Config.AggregateMaxBytes}");
        }
        if (request.ContentType is not string contentType)
        {
            return WireAnswers.Refuse(Rejection.ParameterMissing, "Content-Type");
        }
        if (!core.Config.AggregateContentTypes.Contains(contentType, StringComparer.OrdinalIgnoreCase))
        {
            return WireAnswers.ContentTypeNotAccepted($"Content-Type {Shorten(contentType)}");
        }
        if (request.Headers["Content-Digest"].FirstOrDefault() is not string contentDigest)
        {
            return WireAnswers.Refuse(Rejection.ParameterMissing, "Content-Digest");
        }
        if (!ContentDigest.TryParse(contentDigest, out _, out var why))
        {
            return WireAnswers.Refuse(why, "Content-Digest", Shorten(contentDigest));
        }
        if (request.Headers["Aggregate-Interval"].FirstOrDefault() is string interval && !IsInterval(interval))
        {
            return WireAnswers.Refuse(Rejection.Malformed, "Aggregate-Interval", Shorten(interval));
        }
        return null;
    }

    /// <summary>&lt;RFC 3339 start&gt;/&lt;ISO 8601 duration&gt;, e.g. 2026-11-29T10:00:00Z/PT1M.</summary>
    public static bool IsInterval(string value)
    {
        var match = IntervalPattern().Match(value);
        return match.Success && DateTimeOffset.TryParse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.None, out _);
    }

    [GeneratedRegex(@"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2}))/P(?=[0-9T])(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+W)?(?:[0-9]+D)?(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+S)?)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex IntervalPattern();

    /// <summary>The covered components as stored: a JSON array of [identifier, value] pairs, in signature order.</summary>
    public static string ComponentsJson(IReadOnlyList<KeyValuePair<string, string>> values)
    {
        using var buffer = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var (identifier, value) in values)
            {
                w.WriteStartArray();
                w.WriteStringValue(identifier);
                w.WriteStringValue(value);
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Shorten(string text) => text.Length > 100 ? text[..100] + "…" : text;
}
