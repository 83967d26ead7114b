// JWK thumbprints (RFC 7638): SHA-256 over the required members in lexicographic order, written
// without white space, base64url-encoded. RFC 8037 §2 gives the OKP members (crv, kty, x).
using System.Security.Cryptography;
using System.Text.Json;
using Tapir.Security.Encoding;

namespace Tapir.Security.Jose;

public static class Thumbprint
{
    public static string Compute(Jwk key) => Base64Url.Encode(SHA256.HashData(CanonicalJson(key)));

    public static byte[] CanonicalJson(Jwk key)
    {
        var members = key.Members().Where(m => m.Value is not null && (!m.Secret || key.IsSymmetric)).ToDictionary(m => m.Name, m => m.Value!);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            switch (key.KeyType)
            {
                case "EC":
                    writer.WriteString("crv", key.Curve);
                    writer.WriteString("kty", "EC");
                    writer.WriteString("x", Base64Url.Encode(members["x"]));
                    writer.WriteString("y", Base64Url.Encode(members["y"]));
                    break;
                case "OKP":
                    writer.WriteString("crv", key.Curve);
                    writer.WriteString("kty", "OKP");
                    writer.WriteString("x", Base64Url.Encode(members["x"]));
                    break;
                case "RSA":
                    writer.WriteString("e", Base64Url.Encode(members["e"]));
                    writer.WriteString("kty", "RSA");
                    writer.WriteString("n", Base64Url.Encode(members["n"]));
                    break;
                default:
                    writer.WriteString("k", Base64Url.Encode(members["k"]));
                    writer.WriteString("kty", "oct");
                    break;
            }
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
