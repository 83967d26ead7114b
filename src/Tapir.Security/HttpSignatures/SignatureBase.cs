// The signature base (RFC 9421 §2.5): one line per covered component, `"<identifier>": <value>`,
// then `"@signature-params": <parameters>`, joined by LF with no final LF. Values holding a
// newline are refused (they would forge lines). Also rebuilt from stored component values, so
// a stored aggregate can be re-verified without the original request (DESIGN §5.4).
using System.Text;

namespace Tapir.Security.HttpSignatures;

public static class SignatureBase
{
    /// <summary>The base and the value of each component, or the first component with no value.</summary>
    public static bool TryBuild(HttpMessage message, SignatureParameters parameters, out byte[] signatureBase,
        out IReadOnlyList<KeyValuePair<string, string>> values, [NotNullWhen(false)] out ComponentIdentifier? missing)
    {
        var list = new List<KeyValuePair<string, string>>();
        signatureBase = [];
        values = list;
        missing = null;
        foreach (var component in parameters.Components)
        {
            if (!ComponentValues.TryGet(message, component, out string value))
            {
                missing = component;
                return false;
            }
            list.Add(new(component.Serialized, value));
        }
        return TryFromValues(list, parameters.Serialized, out signatureBase);
    }

    public static bool TryFromValues(IReadOnlyList<KeyValuePair<string, string>> values, string signatureParams, out byte[] signatureBase)
    {
        signatureBase = [];
        var builder = new StringBuilder();
        foreach (var (identifier, value) in values)
        {
            if (value.Contains('\n') || value.Contains('\r') || identifier.Contains('\n'))
            {
                return false;
            }
            builder.Append(identifier).Append(": ").Append(value).Append('\n');
        }
        builder.Append("\"@signature-params\": ").Append(signatureParams);
        string text = builder.ToString();
        // Values come from HTTP fields (Latin-1 octets at most); anything beyond is refused.
        if (text.Any(c => c > 0xff))
        {
            return false;
        }
        signatureBase = System.Text.Encoding.Latin1.GetBytes(text);
        return true;
    }
}
