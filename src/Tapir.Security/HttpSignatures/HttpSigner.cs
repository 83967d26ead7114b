// Signs an HTTP message (RFC 9421 §3.1) and returns the Signature-Input and Signature members.
// Defaults follow the real edm profile: content-type, content-length, content-digest, created,
// alg when the key has an RFC 9421 name, keyid (DESIGN §5.2).
using Tapir.Security.Encoding;
using Tapir.Security.Jose;

namespace Tapir.Security.HttpSignatures;

public sealed record HttpSignature(string Label, string SignatureInput, string Signature, byte[] SignatureBase);

public static class HttpSigner
{
    public static readonly IReadOnlyList<string> EdmComponents = ["content-type", "content-length", "content-digest"];

    /// <param name="components">Serialized identifiers or bare names (e.g. content-digest, "@query-param";name="a").</param>
    /// <param name="includeAlg">Write the alg parameter (only possible when the key's algorithm has an RFC 9421 name).</param>
    public static HttpSignature Sign(HttpMessage message, Jwk key, string keyId, DateTimeOffset created, IReadOnlyList<string>? components = null,
        string label = "sig1", bool includeAlg = true, DateTimeOffset? expires = null, string? nonce = null, string? tag = null)
    {
        if (!key.MaySign)
        {
            throw new ArgumentException($"{key} cannot sign", nameof(key));
        }
        var jwsAlg = key.ImpliedAlgorithm ?? throw new ArgumentException($"{key} carries no alg", nameof(key));
        string? name = HttpSignatureAlgorithm.NameFor(key);
        var identifiers = (components ?? EdmComponents).Select(Identifier).ToList();
        var parameters = new List<KeyValuePair<string, SfBareItem>> { new("created", SfBareItem.Integer(created.ToUnixTimeSeconds())) };
        if (expires is DateTimeOffset e)
        {
            parameters.Add(new("expires", SfBareItem.Integer(e.ToUnixTimeSeconds())));
        }
        if (nonce is not null)
        {
            parameters.Add(new("nonce", SfBareItem.String(nonce)));
        }
        if (includeAlg && name is not null)
        {
            parameters.Add(new("alg", SfBareItem.String(name)));
        }
        parameters.Add(new("keyid", SfBareItem.String(keyId)));
        if (tag is not null)
        {
            parameters.Add(new("tag", SfBareItem.String(tag)));
        }
        var signatureParameters = new SignatureParameters(identifiers, parameters);
        if (!SignatureBase.TryBuild(message, signatureParameters, out var signatureBase, out _, out var missing))
        {
            throw new ArgumentException($"the message has no value for {missing?.Serialized ?? "a component"}", nameof(message));
        }
        byte[] signature = JwsCrypto.Sign(key, jwsAlg, signatureBase);
        return new HttpSignature(label, $"{label}={signatureParameters.Serialized}", $"{label}=:{Convert.ToBase64String(signature)}:", signatureBase);
    }

    private static ComponentIdentifier Identifier(string text)
    {
        string serialized = text.StartsWith('"') ? text : $"\"{text}\"";
        return ComponentIdentifier.TryParse(serialized, out var identifier, out var why)
            ? identifier : throw new ArgumentException($"bad component identifier {text}: {why}", nameof(text));
    }
}
