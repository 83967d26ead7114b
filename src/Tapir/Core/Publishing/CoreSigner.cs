// What every message the core publishes is made of (DESIGN §6.3): the application JSON, checked
// strictly and bounded, signed with the current core data key as a flattened JWS whose protected
// header is exactly {"alg","kid"}. The bytes signed are the file's own, never a re-serialisation.
using Tapir.Security.Encoding;
using Tapir.Security.Jose;

namespace Tapir.Core.Publishing;

public static class CoreSigner
{
    /// <summary>The largest JSON document the core signs for MQTT (its JWS is about 4/3 of it).</summary>
    public const int MaxJsonBytes = 256 * 1024;

    /// <summary>The flattened JWS, as the UTF-8 bytes that go into the outbox.</summary>
    public static byte[] Sign(ReadOnlySpan<byte> payload, Jwk key) =>
        System.Text.Encoding.UTF8.GetBytes(JwsSigner.Flattened(payload, key));

    /// <summary>Refuses, with a message naming <paramref name="what"/>, anything but one strict JSON document (an object when asked) within the bound.</summary>
    public static void CheckJson(byte[] json, string what, bool objectOnly)
    {
        if (json.Length > MaxJsonBytes)
        {
            throw new TapirException($"{what}: {json.Length} bytes, more than the {MaxJsonBytes} a core message may hold; refused.");
        }
        if (!StrictJson.TryParse(json, out var document, out var why))
        {
            throw new TapirException($"{what} is not strict JSON ({why}: UTF-8, one document, no duplicate members, no comments or trailing data); refused.");
        }
        using (document)
        {
            if (objectOnly && document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                throw new TapirException($"{what} must be a JSON object, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}; refused.");
            }
        }
    }
}
