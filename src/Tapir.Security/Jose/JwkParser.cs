// Parses one JWK strictly (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2). Refused: unknown kty or crv,
// X25519/X448, non-canonical base64url, wrong coordinate or key lengths, EC points off the curve,
// EdDSA points that are non-canonical, off the curve or of small order (Interop/EdwardsPoint),
// private parts that do not match the public ones, RSA below 2048 bits or with a weak exponent or
// ROCA modulus, multi-prime RSA, oct keys under 256 bits, use other than "sig", unknown or
// ill-fitting alg. Unknown members are ignored, as RFC 7517 §4 requires.
using System.Security.Cryptography;
using System.Text.Json;
using Tapir.Security.Encoding;
using Tapir.Security.Interop;

namespace Tapir.Security.Jose;

public static class JwkParser
{
    public static bool TryParse(ReadOnlyMemory<byte> json, [NotNullWhen(true)] out Jwk? key, out Rejection why)
    {
        key = null;
        if (!StrictJson.TryParse(json, out var document, out why))
        {
            return false;
        }
        using (document)
        {
            return TryParse(document.RootElement, out key, out why);
        }
    }

    public static bool TryParse(JsonElement obj, [NotNullWhen(true)] out Jwk? key, out Rejection why)
    {
        key = null;
        why = Rejection.Malformed;
        if (obj.ValueKind != JsonValueKind.Object
            || !StrictJson.TryGetOptionalString(obj, "kty", out var kty) || kty is null
            || !StrictJson.TryGetOptionalString(obj, "kid", out var kid)
            || !StrictJson.TryGetOptionalString(obj, "alg", out var algName)
            || !StrictJson.TryGetOptionalString(obj, "use", out var use)
            || !StrictJson.TryGetOptionalString(obj, "crv", out var crv)
            || !TryKeyOps(obj, out var keyOps)
            || obj.TryGetProperty("oth", out _))
        {
            return false;
        }
        JwsAlgorithm? alg = null;
        if (algName is not null)
        {
            if (!JwsAlgorithms.TryParse(algName, out var parsed))
            {
                why = Rejection.AlgorithmNotAllowed;
                return false;
            }
            alg = parsed;
        }
        if (use is not null && use != "sig")
        {
            why = Rejection.WeakOrInvalidKey;
            return false;
        }
        var header = new Jwk(kty, crv, kid, null, use, keyOps);
        Jwk? material = kty switch
        {
            "EC" => Ec(obj, header, ref why),
            "OKP" => Okp(obj, header, ref why),
            "RSA" => RsaKey(obj, header, ref why),
            "oct" => Oct(obj, header, ref why),
            _ => null,
        };
        if (material is null)
        {
            return false;
        }
        if (alg is JwsAlgorithm a && !material.Fits(a))
        {
            why = Rejection.KeyMismatch;
            return false;
        }
        key = alg is JwsAlgorithm fits ? material.WithAlg(fits) : material;
        why = Rejection.None;
        return true;
    }

    private static bool TryKeyOps(JsonElement obj, out IReadOnlyList<string>? keyOps)
    {
        keyOps = null;
        if (!obj.TryGetProperty("key_ops", out var member))
        {
            return true;
        }
        if (member.ValueKind != JsonValueKind.Array)
        {
            return false;
        }
        var list = new List<string>();
        foreach (var item in member.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || list.Contains(item.GetString()!))
            {
                return false;
            }
            list.Add(item.GetString()!);
        }
        keyOps = list;
        return true;
    }

    private static Jwk? Ec(JsonElement obj, Jwk header, ref Rejection why)
    {
        (ECCurve curve, int size)? spec = header.Curve switch
        {
            "P-256" => (ECCurve.NamedCurves.nistP256, 32),
            "P-384" => (ECCurve.NamedCurves.nistP384, 48),
            "P-521" => (ECCurve.NamedCurves.nistP521, 66),
            _ => null,
        };
        if (spec is not var (curve, size)
            || !StrictJson.TryGetOptionalBase64Url(obj, "x", out var x) || x?.Length != size
            || !StrictJson.TryGetOptionalBase64Url(obj, "y", out var y) || y?.Length != size
            || !StrictJson.TryGetOptionalBase64Url(obj, "d", out var d) || d is not null && d.Length != size)
        {
            return null;
        }
        var parameters = new ECParameters { Curve = curve, Q = new ECPoint { X = x, Y = y }, D = d };
        try
        {
            // Import checks the point is on the curve and, with d, that d matches it.
            using var ecdsa = ECDsa.Create(parameters);
        }
        catch (CryptographicException)
        {
            why = Rejection.WeakOrInvalidKey;
            return null;
        }
        return new Jwk(header.KeyType, header.Curve, header.Kid, null, header.Use, header.KeyOps) { Ec = parameters };
    }

    private static Jwk? Okp(JsonElement obj, Jwk header, ref Rejection why)
    {
        EdCurve? curve = header.Curve switch
        {
            "Ed25519" => EdCurve.Ed25519,
            "Ed448" => EdCurve.Ed448,
            _ => null,
        };
        if (curve is not EdCurve c
            || !StrictJson.TryGetOptionalBase64Url(obj, "x", out var x) || x?.Length != EdDsa.KeyLength(c)
            || !StrictJson.TryGetOptionalBase64Url(obj, "d", out var d) || d is not null && d.Length != EdDsa.KeyLength(c))
        {
            return null;
        }
        if (!EdDsa.IsValidPublicKey(c, x) || d is not null && !EdDsa.PublicKeyOf(c, d).AsSpan().SequenceEqual(x))
        {
            why = Rejection.WeakOrInvalidKey;
            return null;
        }
        return new Jwk(header.KeyType, header.Curve, header.Kid, null, header.Use, header.KeyOps) { OkpX = x, OkpD = d };
    }

    private static Jwk? RsaKey(JsonElement obj, Jwk header, ref Rejection why)
    {
        string[] privateNames = ["d", "p", "q", "dp", "dq", "qi"];
        var values = new Dictionary<string, byte[]?>();
        foreach (var name in privateNames.Prepend("e").Prepend("n"))
        {
            if (!StrictJson.TryGetOptionalBase64Url(obj, name, out var value))
            {
                return null;
            }
            values[name] = value;
        }
        if (header.Curve is not null || values["n"] is not byte[] n || values["e"] is not byte[] e)
        {
            return null;
        }
        int present = privateNames.Count(p => values[p] is not null);
        if (present is not 0 and not 6)
        {
            return null; // Private keys must carry all CRT members; a bare d is not accepted.
        }
        if (!RsaKeyRules.IsAcceptable(n, e))
        {
            why = Rejection.WeakOrInvalidKey;
            return null;
        }
        // Kept unpadded: RSAParameters cannot hold keys with primes of unequal length (RFC 9421's
        // test-key-rsa is one), so the private key is handed to OpenSSL as PKCS#1 DER instead.
        var parameters = new RSAParameters
        {
            Modulus = n, Exponent = e, D = values["d"], P = values["p"], Q = values["q"], DP = values["dp"], DQ = values["dq"], InverseQ = values["qi"],
        };
        if (present == 6 && !RsaKeyRules.IsConsistentPrivateKey(parameters))
        {
            why = Rejection.WeakOrInvalidKey;
            return null;
        }
        var key = new Jwk(header.KeyType, null, header.Kid, null, header.Use, header.KeyOps) { Rsa = parameters };
        try
        {
            using var rsa = key.CreateRsa();
        }
        catch (CryptographicException)
        {
            why = Rejection.WeakOrInvalidKey;
            return null;
        }
        return key;
    }

    private static Jwk? Oct(JsonElement obj, Jwk header, ref Rejection why)
    {
        if (header.Curve is not null || !StrictJson.TryGetOptionalBase64Url(obj, "k", out var k) || k is null)
        {
            return null;
        }
        if (k.Length < 32)
        {
            why = Rejection.WeakOrInvalidKey;
            return null;
        }
        return new Jwk(header.KeyType, null, header.Kid, null, header.Use, header.KeyOps) { Secret = k };
    }
}
