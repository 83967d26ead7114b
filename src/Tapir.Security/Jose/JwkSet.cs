// A JWK set (RFC 7517 §5) as tapir trusts it: every key parses strictly, every key has a kid and
// no kid appears twice, and symmetric and asymmetric keys are never mixed in one set, so a kid
// can never be looked up as the wrong kind of key.
using System.Text.Json;
using Tapir.Security.Encoding;

namespace Tapir.Security.Jose;

public sealed class JwkSet
{
    private readonly Dictionary<string, Jwk> byKid;

    public JwkSet(IEnumerable<Jwk> keys)
    {
        Keys = keys.ToList();
        if (Keys.Any(k => k.Kid is null) || IsAmbiguous(Keys))
        {
            throw new ArgumentException("every key in a set needs a kid, no kid may repeat, and symmetric and asymmetric keys may not mix", nameof(keys));
        }
        byKid = Keys.ToDictionary(k => k.Kid!, StringComparer.Ordinal);
    }

    public IReadOnlyList<Jwk> Keys { get; }

    public Jwk? Find(string? kid) => kid is not null && byKid.TryGetValue(kid, out var key) ? key : null;

    public static bool TryParse(ReadOnlyMemory<byte> json, [NotNullWhen(true)] out JwkSet? set, out Rejection why)
    {
        set = null;
        if (!StrictJson.TryParse(json, out var document, out why))
        {
            return false;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
            {
                why = Rejection.Malformed;
                return false;
            }
            var parsed = new List<Jwk>();
            foreach (var element in keys.EnumerateArray())
            {
                if (!JwkParser.TryParse(element, out var key, out why) || key.Kid is null)
                {
                    why = why == Rejection.None ? Rejection.Malformed : why; // a key without a kid
                    return false;
                }
                parsed.Add(key);
            }
            why = IsAmbiguous(parsed) ? Rejection.AmbiguousKeySet : Rejection.None;
            set = why == Rejection.None ? new JwkSet(parsed) : null;
            return set is not null;
        }
    }

    private static bool IsAmbiguous(IReadOnlyList<Jwk> keys) =>
        keys.Select(k => k.Kid).Distinct(StringComparer.Ordinal).Count() != keys.Count || keys.Any(k => k.IsSymmetric) && keys.Any(k => !k.IsSymmetric);

    /// <summary>The public set as JSON (a set holding oct keys cannot be published).</summary>
    public string ToJson(bool includePrivate = false)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("keys");
            foreach (var key in Keys)
            {
                if (key.IsSymmetric && !includePrivate)
                {
                    throw new InvalidOperationException("a set of symmetric keys has no public form");
                }
                key.WriteTo(writer, includePrivate);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
