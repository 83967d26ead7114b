// Produces JWS in the three serializations with protected header {"alg","kid"} (DESIGN §6.3).
// The algorithm is the key's own (its alg, or the one its curve implies); RSA and oct keys must
// carry alg. Several keys give a general JWS with one signature each (DESIGN §4.2).
using System.Text.Json;
using Tapir.Security.Encoding;

namespace Tapir.Security.Jose;

public static class JwsSigner
{
    public static string Compact(ReadOnlySpan<byte> payload, Jwk key)
    {
        string payloadB64 = Base64Url.Encode(payload);
        var (protectedB64, signature) = SignOne(payloadB64, key);
        return $"{protectedB64}.{payloadB64}.{signature}";
    }

    public static string Flattened(ReadOnlySpan<byte> payload, Jwk key)
    {
        string payloadB64 = Base64Url.Encode(payload);
        var (protectedB64, signature) = SignOne(payloadB64, key);
        return Json(writer =>
        {
            writer.WriteString("payload", payloadB64);
            writer.WriteString("protected", protectedB64);
            writer.WriteString("signature", signature);
        });
    }

    public static string General(ReadOnlySpan<byte> payload, IReadOnlyList<Jwk> keys)
    {
        if (keys.Count == 0)
        {
            throw new ArgumentException("at least one key is needed", nameof(keys));
        }
        string payloadB64 = Base64Url.Encode(payload);
        var signatures = keys.Select(k => SignOne(payloadB64, k)).ToList();
        return Json(writer =>
        {
            writer.WriteString("payload", payloadB64);
            writer.WriteStartArray("signatures");
            foreach (var (protectedB64, signature) in signatures)
            {
                writer.WriteStartObject();
                writer.WriteString("protected", protectedB64);
                writer.WriteString("signature", signature);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        });
    }

    private static (string ProtectedB64, string Signature) SignOne(string payloadB64, Jwk key)
    {
        var alg = key.ImpliedAlgorithm ?? throw new ArgumentException($"{key} carries no alg", nameof(key));
        string header = Json(writer =>
        {
            writer.WriteString("alg", JwsAlgorithms.Name(alg));
            if (key.Kid is not null)
            {
                writer.WriteString("kid", key.Kid);
            }
        });
        string protectedB64 = Base64Url.Encode(System.Text.Encoding.UTF8.GetBytes(header));
        byte[] signature = JwsCrypto.Sign(key, alg, System.Text.Encoding.ASCII.GetBytes($"{protectedB64}.{payloadB64}"));
        return (protectedB64, Base64Url.Encode(signature));
    }

    private static string Json(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
