// An HttpClient handler that signs every outgoing request with the node's data key (RFC 9421,
// the edm profile of DESIGN §5.2): it sets Content-Length and Content-Digest (unless the caller
// streams and set both), then adds Signature-Input and Signature over exactly the values that
// will go on the wire. The body itself is never part of the signature base.
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;

namespace Tapir.Edge.Submit;

public sealed class SigningHandler(Jwk key, string keyId, TimeProvider clock, IReadOnlyList<string>? components = null) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // A caller that streams a large body sets Content-Digest and Content-Length itself (hashing
        // the file with ContentDigest as it goes); only then is the body left unread here.
        bool streamed = request.Content?.Headers.ContentLength is not null && request.Headers.Contains("Content-Digest");
        if (request.Content is not null && !streamed)
        {
            byte[] body = await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            request.Content.Headers.ContentLength = body.Length;
            request.Headers.Remove("Content-Digest");
            request.Headers.TryAddWithoutValidation("Content-Digest", ContentDigest.FieldValueOf(body));
        }
        var signature = HttpSigner.Sign(ToMessage(request, []), key, keyId, clock.GetUtcNow(), components);
        request.Headers.TryAddWithoutValidation("Signature-Input", signature.SignatureInput);
        request.Headers.TryAddWithoutValidation("Signature", signature.Signature);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The request as RFC 9421 sees it: the fields HttpClient will send, one line per name.</summary>
    public static HttpMessage ToMessage(HttpRequestMessage request, byte[] body)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("the request has no URI");
        var fields = new List<KeyValuePair<string, string>> { new("Host", request.Headers.Host ?? uri.Authority) };
        foreach (var (name, values) in request.Headers.NonValidated)
        {
            if (!name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                fields.Add(new(name, string.Join(", ", values)));
            }
        }
        if (request.Content is not null)
        {
            foreach (var (name, values) in request.Content.Headers.NonValidated)
            {
                fields.Add(new(name, string.Join(", ", values)));
            }
        }
        return new HttpMessage { Method = request.Method.Method, Target = uri.PathAndQuery, Scheme = uri.Scheme, Fields = fields, Body = body };
    }
}
