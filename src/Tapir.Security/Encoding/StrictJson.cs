// JSON as tapir accepts it from the wire: RFC 8259 UTF-8, no comments, no trailing commas, no
// trailing data, bounded depth, and no object with the same member name twice (RFC 7515 §5.2 lets
// a verifier refuse duplicates, and tapir always does: two parsers must never see two messages).
using System.Text.Json;

namespace Tapir.Security.Encoding;

public static class StrictJson
{
    public const int MaxDepth = 16;

    public static bool TryParse(ReadOnlyMemory<byte> utf8, [NotNullWhen(true)] out JsonDocument? document, out Rejection why)
    {
        document = null;
        why = Rejection.Malformed;
        // JsonDocument checks string contents lazily; tapir wants all of the input checked now.
        if (!System.Text.Unicode.Utf8.IsValid(utf8.Span))
        {
            return false;
        }
        try
        {
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = MaxDepth });
            if (HasDuplicate(document.RootElement))
            {
                document.Dispose();
                document = null;
                why = Rejection.DuplicateMember;
                return false;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: an escape that decodes to invalid UTF-16 (a lone surrogate).
            document?.Dispose();
            document = null;
            return false;
        }
        why = Rejection.None;
        return true;
    }

    private static bool HasDuplicate(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var member in element.EnumerateObject())
                {
                    if (!names.Add(member.Name) || HasDuplicate(member.Value))
                    {
                        return true;
                    }
                }
                return false;
            case JsonValueKind.Array:
                return element.EnumerateArray().Any(HasDuplicate);
            case JsonValueKind.String:
                _ = element.GetString(); // throws on a lone-surrogate escape, refused above
                return false;
            default:
                return false;
        }
    }

    /// <summary>A string member, or null when absent; false when present but not a string.</summary>
    public static bool TryGetOptionalString(JsonElement obj, string name, out string? value)
    {
        bool present = obj.TryGetProperty(name, out var member);
        value = present && member.ValueKind == JsonValueKind.String ? member.GetString() : null;
        return !present || value is not null;
    }

    /// <summary>A base64url member decoded strictly, or null when absent; false when malformed.</summary>
    public static bool TryGetOptionalBase64Url(JsonElement obj, string name, out byte[]? value)
    {
        value = null;
        byte[] bytes = [];
        if (!TryGetOptionalString(obj, name, out var text) || text is not null && !Base64Url.TryDecode(text, out bytes))
        {
            return false;
        }
        value = text is null ? null : bytes;
        return true;
    }
}
