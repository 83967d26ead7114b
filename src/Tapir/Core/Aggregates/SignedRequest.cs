// The server side of RFC 9421 on Kestrel: a received request as the verifier sees it (method, the
// raw request target as sent, scheme, every field line), checked under a policy with the caller's
// key resolver. The body is not read here; its digest is checked while it streams to disk.
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Tapir.Security;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;

namespace Tapir.Core.Aggregates;

public static class SignedRequest
{
    public static HttpMessage From(HttpRequest request)
    {
        string target = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget ?? $"{request.PathBase}{request.Path}{request.QueryString}";
        var fields = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in request.Headers)
        {
            fields.Add(new(name, string.Join(", ", values.Where(v => v is not null))));
        }
        return new HttpMessage { Method = request.Method, Target = target, Scheme = request.Scheme, Fields = fields };
    }

    public static bool TryVerify(HttpRequest request, HttpSignaturePolicy policy, Func<string, Jwk?> keys, DateTimeOffset now,
        [NotNullWhen(true)] out HttpSignatureVerified? verified, out Rejection why) =>
        HttpVerifier.TryVerify(From(request), policy, keys, now, out verified, out why);
}
