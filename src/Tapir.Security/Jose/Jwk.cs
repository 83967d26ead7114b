// A JSON Web Key (RFC 7517, RFC 7518 §6, RFC 8037 §2) that has passed JwkParser's checks or was
// generated here. The key type carries its curve and, where set, its algorithm, so a key cannot be
// used with an algorithm that does not fit it. ToString() never shows secret material.
using System.Security.Cryptography;
using System.Text.Json;
using Tapir.Security.Encoding;
using Tapir.Security.Interop;

namespace Tapir.Security.Jose;

public sealed class Jwk
{
    internal Jwk(string keyType, string? curve, string? kid, JwsAlgorithm? alg, string? use, IReadOnlyList<string>? keyOps)
    {
        KeyType = keyType;
        Curve = curve;
        Kid = kid;
        Alg = alg;
        Use = use;
        KeyOps = keyOps;
    }

    /// <summary>"EC", "OKP", "RSA" or "oct".</summary>
    public string KeyType { get; }

    /// <summary>"P-256", "P-384", "P-521", "Ed25519" or "Ed448"; null for RSA and oct.</summary>
    public string? Curve { get; }

    public string? Kid { get; private init; }

    public JwsAlgorithm? Alg { get; private init; }

    public string? Use { get; }

    public IReadOnlyList<string>? KeyOps { get; }

    public bool IsSymmetric => KeyType == "oct";

    public bool HasPrivateKey => IsSymmetric || Ec?.D is not null || Rsa?.D is not null || OkpD is not null;

    internal ECParameters? Ec { get; init; }

    internal RSAParameters? Rsa { get; init; }

    internal byte[]? OkpX { get; init; }

    internal byte[]? OkpD { get; init; }

    internal byte[]? Secret { get; init; }

    /// <summary>An OpenSSL-backed RSA object: public only, or the private key as PKCS#1 DER.</summary>
    internal RSA CreateRsa()
    {
        var p = Rsa ?? throw new InvalidOperationException("not an RSA key");
        var rsa = RSA.Create();
        try
        {
            if (p.D is null)
            {
                rsa.ImportParameters(new RSAParameters { Modulus = Minimal(p.Modulus), Exponent = Minimal(p.Exponent) });
                return rsa;
            }
            var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
            using (writer.PushSequence())
            {
                writer.WriteInteger(0);
                foreach (var part in new[] { p.Modulus, p.Exponent, p.D, p.P, p.Q, p.DP, p.DQ, p.InverseQ })
                {
                    writer.WriteIntegerUnsigned(Minimal(part));
                }
            }
            rsa.ImportRSAPrivateKey(writer.Encode(), out _);
            return rsa;
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    private EdDsaKey? edKey;
    private AsymmetricAlgorithm? bclKey;

    /// <summary>
    /// The key as one cached BCL object (ECDsa or RSA), made once instead of on every operation.
    /// Callers lock on it: the BCL does not promise that one instance may be used concurrently.
    /// </summary>
    internal AsymmetricAlgorithm BclKey => bclKey ??= KeyType switch
    {
        "EC" => ECDsa.Create(Ec!.Value),
        "RSA" => CreateRsa(),
        _ => throw new InvalidOperationException($"{KeyType} keys have no BCL object"),
    };

    /// <summary>The libcrypto handle of an OKP key, made once (null if x is not a curve point).</summary>
    internal EdDsaKey? EdKey => edKey ??= OkpD is not null ? EdDsaKey.FromPrivate(EdCurve, OkpD) : OkpX is not null ? EdDsaKey.FromPublic(EdCurve, OkpX) : null;

    internal EdCurve EdCurve => Curve == "Ed448" ? EdCurve.Ed448 : EdCurve.Ed25519;

    /// <summary>True when this key may make or check signatures with the algorithm (RFC 7518 §3).</summary>
    public bool Fits(JwsAlgorithm alg)
    {
        if (Alg is JwsAlgorithm own && own != alg)
        {
            return false;
        }
        if (JwsAlgorithms.KeyType(alg) != KeyType)
        {
            return false;
        }
        return alg switch
        {
            JwsAlgorithm.ES256 or JwsAlgorithm.ES384 or JwsAlgorithm.ES512 => JwsAlgorithms.EcCurve(alg) == Curve,
            JwsAlgorithm.HS256 or JwsAlgorithm.HS384 or JwsAlgorithm.HS512 => Secret!.Length * 8 >= JwsAlgorithms.Hash(alg) switch
            {
                var h when h == HashAlgorithmName.SHA256 => 256,
                var h when h == HashAlgorithmName.SHA384 => 384,
                _ => 512,
            },
            _ => true,
        };
    }

    /// <summary>The key's own algorithm, or the one its type and curve imply; null for RSA and oct without alg.</summary>
    public JwsAlgorithm? ImpliedAlgorithm => Alg ?? (KeyType, Curve) switch
    {
        ("OKP", _) => JwsAlgorithm.EdDSA,
        ("EC", "P-256") => JwsAlgorithm.ES256,
        ("EC", "P-384") => JwsAlgorithm.ES384,
        ("EC", "P-521") => JwsAlgorithm.ES512,
        _ => null,
    };

    public bool MayVerify => KeyOps is null || KeyOps.Contains("verify");

    public bool MaySign => HasPrivateKey && (KeyOps is null || KeyOps.Contains("sign"));

    /// <summary>The same key without private material (an oct key has no public half).</summary>
    public Jwk PublicKey()
    {
        if (IsSymmetric)
        {
            throw new InvalidOperationException("a symmetric key has no public part");
        }
        return new Jwk(KeyType, Curve, Kid, Alg, Use, KeyOps)
        {
            Ec = Ec is ECParameters ec ? new ECParameters { Curve = ec.Curve, Q = ec.Q } : null,
            Rsa = Rsa is RSAParameters rsa ? new RSAParameters { Modulus = rsa.Modulus, Exponent = rsa.Exponent } : null,
            OkpX = OkpX,
        };
    }

    public Jwk WithKid(string kid) => new(KeyType, Curve, kid, Alg, Use, KeyOps)
    {
        Ec = Ec, Rsa = Rsa, OkpX = OkpX, OkpD = OkpD, Secret = Secret,
    };

    public Jwk WithAlg(JwsAlgorithm alg)
    {
        var candidate = new Jwk(KeyType, Curve, Kid, alg, Use, KeyOps) { Ec = Ec, Rsa = Rsa, OkpX = OkpX, OkpD = OkpD, Secret = Secret };
        return (Alg is null || Alg == alg) && candidate.Fits(alg)
            ? candidate
            : throw new ArgumentException($"{alg} does not fit this {KeyType} {Curve} key", nameof(alg));
    }

    /// <summary>The key as JSON; private members only when asked for and present.</summary>
    public string ToJson(bool includePrivate = false)
    {
        if (includePrivate == false && IsSymmetric)
        {
            throw new InvalidOperationException("a symmetric key has no public form; ask for the private JSON explicitly");
        }
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteTo(writer, includePrivate);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    internal void WriteTo(Utf8JsonWriter writer, bool includePrivate)
    {
        writer.WriteStartObject();
        writer.WriteString("kty", KeyType);
        if (Curve is not null)
        {
            writer.WriteString("crv", Curve);
        }
        foreach (var (name, value, secret) in Members())
        {
            if (value is not null && (!secret || includePrivate))
            {
                writer.WriteString(name, Base64Url.Encode(value));
            }
        }
        if (Kid is not null)
        {
            writer.WriteString("kid", Kid);
        }
        if (Alg is JwsAlgorithm alg)
        {
            writer.WriteString("alg", JwsAlgorithms.Name(alg));
        }
        if (Use is not null)
        {
            writer.WriteString("use", Use);
        }
        if (KeyOps is not null)
        {
            writer.WriteStartArray("key_ops");
            foreach (var op in KeyOps)
            {
                writer.WriteStringValue(op);
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    /// <summary>Key members in RFC order with whether each is secret; minimal big-endian for RSA.</summary>
    internal IEnumerable<(string Name, byte[]? Value, bool Secret)> Members()
    {
        if (Ec is ECParameters ec)
        {
            yield return ("x", ec.Q.X, false);
            yield return ("y", ec.Q.Y, false);
            yield return ("d", ec.D, true);
        }
        if (Rsa is RSAParameters rsa)
        {
            yield return ("n", Minimal(rsa.Modulus), false);
            yield return ("e", Minimal(rsa.Exponent), false);
            yield return ("d", Minimal(rsa.D), true);
            yield return ("p", Minimal(rsa.P), true);
            yield return ("q", Minimal(rsa.Q), true);
            yield return ("dp", Minimal(rsa.DP), true);
            yield return ("dq", Minimal(rsa.DQ), true);
            yield return ("qi", Minimal(rsa.InverseQ), true);
        }
        if (OkpX is not null)
        {
            yield return ("x", OkpX, false);
            yield return ("d", OkpD, true);
        }
        if (Secret is not null)
        {
            yield return ("k", Secret, true);
        }
    }

    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(value))]
    internal static byte[]? Minimal(byte[]? value)
    {
        if (value is null)
        {
            return null;
        }
        int skip = 0;
        while (skip < value.Length - 1 && value[skip] == 0)
        {
            skip++;
        }
        return value[skip..];
    }

    public override string ToString() =>
        $"Jwk({KeyType}{(Curve is null ? "" : " " + Curve)}, kid={Kid ?? "-"}, alg={(Alg is JwsAlgorithm a ? JwsAlgorithms.Name(a) : "-")}{(HasPrivateKey ? ", private" : "")})";
}
