// JWS algorithms tapir implements (RFC 7518 §3, RFC 8037 §3.1). "none" is not among them and
// cannot be named: an unknown or "none" alg fails to parse, so it can never reach a verifier.
using System.Security.Cryptography;

namespace Tapir.Security.Jose;

public enum JwsAlgorithm
{
    EdDSA,
    ES256,
    ES384,
    ES512,
    PS256,
    PS384,
    PS512,
    RS256,
    RS384,
    RS512,
    HS256,
    HS384,
    HS512,
}

public static class JwsAlgorithms
{
    public static IReadOnlyList<JwsAlgorithm> All { get; } = Enum.GetValues<JwsAlgorithm>();

    /// <summary>Every algorithm except HMAC: what a verifier of data-key signatures allows.</summary>
    public static IReadOnlySet<JwsAlgorithm> Asymmetric { get; } = All.Where(a => !IsHmac(a)).ToHashSet();

    public static string Name(JwsAlgorithm alg) => alg.ToString();

    public static bool TryParse(string? name, out JwsAlgorithm alg)
    {
        // Exact, case-sensitive names only; Enum.TryParse would also take "0" or "hs256".
        foreach (var candidate in All)
        {
            if (name == candidate.ToString())
            {
                alg = candidate;
                return true;
            }
        }
        alg = default;
        return false;
    }

    public static bool IsHmac(JwsAlgorithm alg) => alg is JwsAlgorithm.HS256 or JwsAlgorithm.HS384 or JwsAlgorithm.HS512;

    public static HashAlgorithmName Hash(JwsAlgorithm alg) => alg switch
    {
        JwsAlgorithm.ES256 or JwsAlgorithm.PS256 or JwsAlgorithm.RS256 or JwsAlgorithm.HS256 => HashAlgorithmName.SHA256,
        JwsAlgorithm.ES384 or JwsAlgorithm.PS384 or JwsAlgorithm.RS384 or JwsAlgorithm.HS384 => HashAlgorithmName.SHA384,
        JwsAlgorithm.ES512 or JwsAlgorithm.PS512 or JwsAlgorithm.RS512 or JwsAlgorithm.HS512 => HashAlgorithmName.SHA512,
        _ => throw new ArgumentException($"{alg} has no separate hash", nameof(alg)),
    };

    /// <summary>The key type an algorithm needs: "OKP", "EC", "RSA" or "oct".</summary>
    public static string KeyType(JwsAlgorithm alg) => alg switch
    {
        JwsAlgorithm.EdDSA => "OKP",
        JwsAlgorithm.ES256 or JwsAlgorithm.ES384 or JwsAlgorithm.ES512 => "EC",
        JwsAlgorithm.HS256 or JwsAlgorithm.HS384 or JwsAlgorithm.HS512 => "oct",
        _ => "RSA",
    };

    /// <summary>The EC curve an ES algorithm is bound to (RFC 7518 §3.4), or null.</summary>
    public static string? EcCurve(JwsAlgorithm alg) => alg switch
    {
        JwsAlgorithm.ES256 => "P-256",
        JwsAlgorithm.ES384 => "P-384",
        JwsAlgorithm.ES512 => "P-521",
        _ => null,
    };
}
