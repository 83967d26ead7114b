// Computes a covered component's value from a message (RFC 9421 §2.1 fields, §2.2 derived).
// Fields: every line of the field, trimmed, joined with ", "; sf re-serializes the field as its
// known structured type; key takes one dictionary member; bs wraps each line as a byte sequence;
// tr reads trailers; req reads the related request. A missing field, a missing key, an unknown
// structured type, or a repeated @query-param name yields no value (the signature fails).
using System.Text;
using Tapir.Security.Encoding;

namespace Tapir.Security.HttpSignatures;

public static class ComponentValues
{
    /// <summary>Fields whose structured type is known (RFC 9421 §2.1.1 needs the type to re-serialize).</summary>
    private static readonly Dictionary<string, string> StructuredTypes = new()
    {
        ["signature"] = "dictionary", ["signature-input"] = "dictionary", ["accept-signature"] = "dictionary",
        ["content-digest"] = "dictionary", ["repr-digest"] = "dictionary", ["want-content-digest"] = "dictionary",
        ["want-repr-digest"] = "dictionary", ["priority"] = "dictionary", ["example-dict"] = "dictionary",
        ["accept-ch"] = "list", ["example-list"] = "list", ["example-item"] = "item", ["aggregate-interval"] = "item",
    };

    public static bool TryGet(HttpMessage message, ComponentIdentifier component, out string value)
    {
        value = "";
        if (component.Has("req"))
        {
            if (message.Request is not HttpMessage request || message.IsRequest)
            {
                return false;
            }
            message = request;
        }
        return component.IsDerived ? TryDerived(message, component, out value) : TryField(message, component, out value);
    }

    private static bool TryField(HttpMessage message, ComponentIdentifier component, out string value)
    {
        value = "";
        var lines = message.Values(component.Name, trailers: component.Has("tr"));
        if (lines.Count == 0)
        {
            return false;
        }
        if (component.Has("bs"))
        {
            value = string.Join(", ", lines.Select(l => $":{Convert.ToBase64String(System.Text.Encoding.Latin1.GetBytes(l))}:"));
            return true;
        }
        string combined = string.Join(", ", lines);
        if (component.StringParameter("key") is string key)
        {
            if (!SfParser.TryParseDictionary(combined, out var dictionary))
            {
                return false;
            }
            var member = dictionary.Where(m => m.Key == key).Select(m => m.Value).FirstOrDefault();
            return member is not null && SfSerializer.TrySerializeMember(member, out value);
        }
        if (component.Has("sf"))
        {
            return StructuredTypes.TryGetValue(component.Name, out var type) && Reserialize(type, combined, out value);
        }
        value = combined;
        return true;
    }

    private static bool Reserialize(string type, string text, out string value)
    {
        value = "";
        return type switch
        {
            "dictionary" => SfParser.TryParseDictionary(text, out var d) && SfSerializer.TrySerializeDictionary(d, out value),
            "list" => SfParser.TryParseList(text, out var l) && SfSerializer.TrySerializeList(l, out value),
            _ => SfParser.TryParseItem(text, out var i) && SfSerializer.TrySerializeItem(i, out value),
        };
    }

    private static bool TryDerived(HttpMessage message, ComponentIdentifier component, out string value)
    {
        value = "";
        if (component.Name == "@status")
        {
            if (message.Status is not int status || message.IsRequest)
            {
                return false;
            }
            value = status.ToString("000", System.Globalization.CultureInfo.InvariantCulture);
            return true;
        }
        if (!message.IsRequest || message.Target is not string target)
        {
            return false;
        }
        bool absolute = target.Contains("://", StringComparison.Ordinal);
        Uri? uri = absolute && Uri.TryCreate(target, UriKind.Absolute, out var u) ? u : null;
        string pathAndQuery = uri?.PathAndQuery ?? target;
        int q = pathAndQuery.IndexOf('?');
        string path = q < 0 ? pathAndQuery : pathAndQuery[..q];
        string? query = q < 0 ? null : pathAndQuery[(q + 1)..];
        string? authority = Authority(message, uri);
        string? result = component.Name switch
        {
            "@method" => message.Method,
            "@scheme" => message.Scheme.ToLowerInvariant(),
            "@authority" => authority,
            "@target-uri" => absolute ? target : authority is null ? null : $"{message.Scheme.ToLowerInvariant()}://{authority}{target}",
            "@request-target" => target,
            "@path" => target.StartsWith('/') || absolute ? (path.Length == 0 ? "/" : path) : null,
            "@query" => target.StartsWith('/') || absolute ? "?" + (query ?? "") : null,
            "@query-param" => QueryParameter(query, component.StringParameter("name")!),
            _ => null,
        };
        value = result ?? "";
        return result is not null;
    }

    private static string? Authority(HttpMessage message, Uri? absolute)
    {
        var hosts = message.Values("host");
        string? authority = hosts.Count == 1 ? hosts[0] : hosts.Count == 0 ? absolute?.Authority : null;
        if (authority is null)
        {
            return null;
        }
        authority = authority.ToLowerInvariant();
        string defaultPort = message.Scheme.Equals("http", StringComparison.OrdinalIgnoreCase) ? ":80" : ":443";
        return authority.EndsWith(defaultPort, StringComparison.Ordinal) ? authority[..^defaultPort.Length] : authority;
    }

    /// <summary>RFC 9421 §2.2.8: decode as application/x-www-form-urlencoded, re-encode, match once.</summary>
    private static string? QueryParameter(string? query, string name)
    {
        if (query is null)
        {
            return null;
        }
        string? found = null;
        foreach (var pair in query.Split('&'))
        {
            int eq = pair.IndexOf('=');
            string key = Reencode(eq < 0 ? pair : pair[..eq]);
            if (key != name)
            {
                continue;
            }
            if (found is not null)
            {
                return null; // a name that occurs twice cannot be signed unambiguously
            }
            found = Reencode(eq < 0 ? "" : pair[(eq + 1)..]);
        }
        return found;
    }

    private static string Reencode(string text)
    {
        byte[] decoded = PercentDecode(text.Replace('+', ' '));
        var builder = new StringBuilder();
        foreach (byte b in decoded)
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'*' or (byte)'-' or (byte)'.' or (byte)'_')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }

    private static byte[] PercentDecode(string text)
    {
        var bytes = new List<byte>();
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(text);
        for (int i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] == '%' && i + 2 < utf8.Length && Uri.IsHexDigit((char)utf8[i + 1]) && Uri.IsHexDigit((char)utf8[i + 2]))
            {
                bytes.Add(Convert.ToByte(System.Text.Encoding.ASCII.GetString(utf8, i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.Add(utf8[i]);
            }
        }
        return bytes.ToArray();
    }
}
