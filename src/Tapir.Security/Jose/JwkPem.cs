// PEM export of a public JWK, so the core can serve a node's key as openssl reads it (the
// public_key endpoint): SubjectPublicKeyInfo ("PUBLIC KEY") for EC and RSA through the BCL, and for
// Ed25519/Ed448 through their fixed RFC 8410 DER prefix. Keys enter tapir only as JWKs: there is
// no PEM import and no private-key export.
using System.Security.Cryptography;
using Tapir.Security.Interop;

namespace Tapir.Security.Jose;

public static class JwkPem
{
    private static readonly byte[] Ed25519Spki = Convert.FromHexString("302a300506032b6570032100");
    private static readonly byte[] Ed448Spki = Convert.FromHexString("3043300506032b6571033a00");

    public static string ExportPublic(Jwk key) => key.KeyType switch
    {
        "OKP" => PemEncoding.WriteString("PUBLIC KEY", [.. key.EdCurve == EdCurve.Ed25519 ? Ed25519Spki : Ed448Spki, .. key.OkpX!]),
        "EC" => Spki(ECDsa.Create(key.Ec!.Value)),
        "RSA" => Spki(key.CreateRsa()),
        _ => throw new InvalidOperationException("a symmetric key has no PEM form"),
    };

    private static string Spki(AsymmetricAlgorithm key)
    {
        using (key)
        {
            return key.ExportSubjectPublicKeyInfoPem();
        }
    }
}
