// RFC 9421 §3.3 algorithm names mapped onto the JWS primitives they share (raw r||s ECDSA,
// RSASSA-PSS with SHA-512 and a 64-byte salt, RSASSA-PKCS1-v1_5 SHA-256, HMAC-SHA256, Ed25519).
// With no alg parameter, the key's own JWS algorithm is used (RFC 9421 §3.3.7): how Ed448 and
// ES512 keys sign.
using Tapir.Security.Jose;

namespace Tapir.Security.HttpSignatures;

public static class HttpSignatureAlgorithm
{
    public const string Ed25519 = "ed25519";
    public const string EcdsaP256 = "ecdsa-p256-sha256";
    public const string EcdsaP384 = "ecdsa-p384-sha384";
    public const string RsaPss = "rsa-pss-sha512";
    public const string RsaV15 = "rsa-v1_5-sha256";
    public const string Hmac = "hmac-sha256";

    public static IReadOnlyList<string> All { get; } = [Ed25519, EcdsaP256, EcdsaP384, RsaPss, RsaV15, Hmac];

    public static bool TryMap(string name, out JwsAlgorithm alg)
    {
        (bool ok, alg) = name switch
        {
            Ed25519 => (true, JwsAlgorithm.EdDSA),
            EcdsaP256 => (true, JwsAlgorithm.ES256),
            EcdsaP384 => (true, JwsAlgorithm.ES384),
            RsaPss => (true, JwsAlgorithm.PS512),
            RsaV15 => (true, JwsAlgorithm.RS256),
            Hmac => (true, JwsAlgorithm.HS256),
            _ => (false, default),
        };
        return ok;
    }

    /// <summary>True when the key may be used with the named RFC 9421 algorithm.</summary>
    public static bool Fits(Jwk key, string name) =>
        TryMap(name, out var alg) && key.Fits(alg) && (name != Ed25519 || key.Curve == "Ed25519");

    /// <summary>The RFC 9421 name for a key's JWS algorithm, where one exists.</summary>
    public static string? NameFor(Jwk key) => key.ImpliedAlgorithm switch
    {
        JwsAlgorithm.EdDSA when key.Curve == "Ed25519" => Ed25519,
        JwsAlgorithm.ES256 => EcdsaP256,
        JwsAlgorithm.ES384 => EcdsaP384,
        JwsAlgorithm.PS512 => RsaPss,
        JwsAlgorithm.RS256 => RsaV15,
        JwsAlgorithm.HS256 => Hmac,
        _ => null,
    };
}
