// Node names (DESIGN §2): a DNS name in lower-case canonical form, LDH labels of 1 to 63 octets
// that neither start nor end with '-', at most 253 octets, no trailing dot. The same string is the
// certificate CN and SAN, the JWK kid, the RFC 9421 keyid and the MQTT identity, so it is checked
// exactly and never normalised: "Edge1.example.net" is refused, not lower-cased.
namespace Tapir.Security.Pki;

public static class NodeName
{
    public const int MaxLength = 253;
    public const int MaxLabelLength = 63;

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength)
        {
            return false;
        }
        foreach (var range in name.AsSpan().Split('.'))
        {
            if (!IsValidLabel(name.AsSpan()[range]))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsValidLabel(ReadOnlySpan<char> label)
    {
        if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-')
        {
            return false;
        }
        foreach (char c in label)
        {
            if (!(c is >= 'a' and <= 'z' || c is >= '0' and <= '9' || c == '-'))
            {
                return false;
            }
        }
        return true;
    }
}
