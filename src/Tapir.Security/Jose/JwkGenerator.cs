// Fresh keys for every JWS algorithm, each with use "sig", alg set and, unless given, kid = its RFC 7638
// thumbprint (DESIGN §2: every key tapir generates carries kid and alg).
using System.Security.Cryptography;
using Tapir.Security.Interop;

namespace Tapir.Security.Jose;

public static class JwkGenerator
{
    public const int RsaBits = 3072;

    public static Jwk Generate(JwsAlgorithm alg, string? curve = null, string? kid = null)
    {
        Jwk key = alg switch
        {
            JwsAlgorithm.EdDSA => Ed(curve ?? "Ed25519"),
            JwsAlgorithm.ES256 or JwsAlgorithm.ES384 or JwsAlgorithm.ES512 => Ec(alg, curve),
            JwsAlgorithm.HS256 or JwsAlgorithm.HS384 or JwsAlgorithm.HS512 => Oct(alg, curve),
            _ => Rsa(curve),
        };
        key = key.WithAlg(alg);
        return key.WithKid(kid ?? (key.IsSymmetric ? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)) : Thumbprint.Compute(key)));
    }

    private static Jwk Ed(string curve)
    {
        EdCurve c = curve switch
        {
            "Ed25519" => EdCurve.Ed25519,
            "Ed448" => EdCurve.Ed448,
            _ => throw new ArgumentException($"EdDSA takes Ed25519 or Ed448, not {curve}", nameof(curve)),
        };
        byte[] d = EdDsa.GeneratePrivateKey(c);
        return new Jwk("OKP", curve, null, null, "sig", null) { OkpD = d, OkpX = EdDsa.PublicKeyOf(c, d) };
    }

    private static Jwk Ec(JwsAlgorithm alg, string? curve)
    {
        string name = JwsAlgorithms.EcCurve(alg)!;
        if (curve is not null && curve != name)
        {
            throw new ArgumentException($"{alg} is bound to {name}, not {curve}", nameof(curve));
        }
        var oid = name switch
        {
            "P-256" => ECCurve.NamedCurves.nistP256,
            "P-384" => ECCurve.NamedCurves.nistP384,
            _ => ECCurve.NamedCurves.nistP521,
        };
        using var ecdsa = ECDsa.Create(oid);
        var parameters = ecdsa.ExportParameters(includePrivateParameters: true);
        return new Jwk("EC", name, null, null, "sig", null) { Ec = parameters };
    }

    private static Jwk Rsa(string? curve)
    {
        if (curve is not null)
        {
            throw new ArgumentException("RSA keys have no curve", nameof(curve));
        }
        using var rsa = RSA.Create(RsaBits);
        return new Jwk("RSA", null, null, null, "sig", null) { Rsa = rsa.ExportParameters(includePrivateParameters: true) };
    }

    private static Jwk Oct(JwsAlgorithm alg, string? curve)
    {
        if (curve is not null)
        {
            throw new ArgumentException("HMAC keys have no curve", nameof(curve));
        }
        int bytes = JwsAlgorithms.Hash(alg).Name switch { "SHA256" => 32, "SHA384" => 48, _ => 64 };
        return new Jwk("oct", null, null, null, "sig", null) { Secret = RandomNumberGenerator.GetBytes(bytes) };
    }
}
