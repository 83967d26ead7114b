// PEM import and export of JWK key material so keys interoperate with openssl: SubjectPublicKeyInfo
// ("PUBLIC KEY") and PKCS#8 ("PRIVATE KEY") for EC and RSA through the BCL, and for Ed25519/Ed448
// through their fixed RFC 8410 DER prefixes (the only encodings those keys have). Imported EdDSA
// public keys pass the same point check as JWKs (EdDsa.IsValidPublicKey).
using System.Security.Cryptography;
using Tapir.Security.Interop;

namespace Tapir.Security.Jose;

public static class JwkPem
{
    private static readonly byte[] Ed25519Spki = Convert.FromHexString("302a300506032b6570032100");
    private static readonly byte[] Ed448Spki = Convert.FromHexString("3043300506032b6571033a00");
    private static readonly byte[] Ed25519Pkcs8 = Convert.FromHexString("302e020100300506032b657004220420");
    private static readonly byte[] Ed448Pkcs8 = Convert.FromHexString("3047020100300506032b6571043b0439");

    public static string ExportPublic(Jwk key) => key.KeyType switch
    {
        "OKP" => PemEncoding.WriteString("PUBLIC KEY", [.. key.EdCurve == EdCurve.Ed25519 ? Ed25519Spki : Ed448Spki, .. key.OkpX!]),
        "EC" => WithEc(key, e => e.ExportSubjectPublicKeyInfoPem()),
        "RSA" => WithRsa(key, r => r.ExportSubjectPublicKeyInfoPem()),
        _ => throw new InvalidOperationException("a symmetric key has no PEM form"),
    };

    public static string ExportPrivate(Jwk key)
    {
        if (!key.HasPrivateKey || key.IsSymmetric)
        {
            throw new InvalidOperationException("only asymmetric private keys have a PKCS#8 form");
        }
        return key.KeyType switch
        {
            "OKP" => PemEncoding.WriteString("PRIVATE KEY", [.. key.EdCurve == EdCurve.Ed25519 ? Ed25519Pkcs8 : Ed448Pkcs8, .. key.OkpD!]),
            "EC" => WithEc(key, e => e.ExportPkcs8PrivateKeyPem()),
            _ => WithRsa(key, r => r.ExportPkcs8PrivateKeyPem()),
        };
    }

    /// <summary>Imports a PUBLIC KEY or PRIVATE KEY PEM; the result has no kid or alg yet.</summary>
    public static bool TryImport(string pem, [NotNullWhen(true)] out Jwk? key)
    {
        key = null;
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            return false;
        }
        string label = pem[fields.Label];
        byte[] der = Convert.FromBase64String(pem[fields.Base64Data]);
        bool isPrivate = label == "PRIVATE KEY";
        if (label != "PUBLIC KEY" && !isPrivate)
        {
            return false;
        }
        foreach (var (prefix, curve) in isPrivate
            ? new[] { (Ed25519Pkcs8, EdCurve.Ed25519), (Ed448Pkcs8, EdCurve.Ed448) }
            : new[] { (Ed25519Spki, EdCurve.Ed25519), (Ed448Spki, EdCurve.Ed448) })
        {
            if (der.Length == prefix.Length + EdDsa.KeyLength(curve) && der.AsSpan().StartsWith(prefix))
            {
                byte[] raw = der[prefix.Length..];
                return Okp(curve, isPrivate ? raw : null, isPrivate ? EdDsa.PublicKeyOf(curve, raw) : raw, out key);
            }
        }
        try
        {
            using var ecdsa = ECDsa.Create();
            ecdsa.ImportFromPem(pem);
            var p = ecdsa.ExportParameters(isPrivate);
            string? name = p.Curve.Oid.FriendlyName switch { "nistP256" or "ECDSA_P256" => "P-256", "nistP384" or "ECDSA_P384" => "P-384", "nistP521" or "ECDSA_P521" => "P-521", _ => null };
            if (name is null)
            {
                return false;
            }
            key = new Jwk("EC", name, null, null, null, null) { Ec = p };
            return true;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
        }
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            var p = rsa.ExportParameters(isPrivate);
            if (!RsaKeyRules.IsAcceptable(p.Modulus, p.Exponent))
            {
                return false;
            }
            key = new Jwk("RSA", null, null, null, null, null) { Rsa = p };
            return true;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    private static bool Okp(EdCurve curve, byte[]? d, byte[] x, out Jwk? key)
    {
        key = EdDsa.IsValidPublicKey(curve, x)
            ? new Jwk("OKP", curve == EdCurve.Ed25519 ? "Ed25519" : "Ed448", null, null, null, null) { OkpX = x, OkpD = d }
            : null;
        return key is not null;
    }

    private static string WithEc(Jwk key, Func<ECDsa, string> export)
    {
        using var ecdsa = ECDsa.Create(key.Ec!.Value);
        return export(ecdsa);
    }

    private static string WithRsa(Jwk key, Func<RSA, string> export)
    {
        using var rsa = key.CreateRsa();
        return export(rsa);
    }
}
