// Serializer for Structured Field Values (RFC 8941 §4.1): the canonical form RFC 9421 signs
// (the sf and key component parameters, @signature-params). Values the grammar cannot express
// (integers beyond 15 digits, bad tokens, non-ASCII strings, bad keys) fail instead of producing
// something a parser would read differently.
using System.Globalization;
using System.Text;

namespace Tapir.Security.Encoding;

public static class SfSerializer
{
    public static bool TrySerializeList(IReadOnlyList<SfMember> list, out string text) =>
        Try(b => Join(b, list, (bb, m) => Member(bb, m)), out text);

    public static bool TrySerializeDictionary(IReadOnlyList<KeyValuePair<string, SfMember>> dictionary, out string text) =>
        Try(b => Join(b, dictionary, (bb, kv) =>
        {
            Key(bb, kv.Key);
            if (kv.Value.Bare is SfBareItem { Kind: SfKind.Boolean, Value: true } && !kv.Value.IsInnerList)
            {
                Parameters(bb, kv.Value.Parameters);
            }
            else
            {
                bb.Append('=');
                Member(bb, kv.Value);
            }
        }), out text);

    public static bool TrySerializeItem(SfMember item, out string text) =>
        Try(b =>
        {
            if (item.IsInnerList)
            {
                throw new FormatException();
            }
            Member(b, item);
        }, out text);

    /// <summary>An item or inner list on its own, as RFC 9421's key parameter and @signature-params need.</summary>
    public static bool TrySerializeMember(SfMember member, out string text) => Try(b => Member(b, member), out text);

    public static string SerializeMember(SfMember member) =>
        TrySerializeMember(member, out var text) ? text : throw new ArgumentException("value cannot be serialized", nameof(member));

    private static bool Try(Action<StringBuilder> write, out string text)
    {
        var builder = new StringBuilder();
        try
        {
            write(builder);
            text = builder.ToString();
            return true;
        }
        catch (FormatException)
        {
            text = "";
            return false;
        }
    }

    private static void Join<T>(StringBuilder b, IReadOnlyList<T> items, Action<StringBuilder, T> write)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0)
            {
                b.Append(", ");
            }
            write(b, items[i]);
        }
    }

    private static void Member(StringBuilder b, SfMember member)
    {
        if (member.InnerList is { } items)
        {
            b.Append('(');
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0)
                {
                    b.Append(' ');
                }
                if (items[i].IsInnerList)
                {
                    throw new FormatException();
                }
                Member(b, items[i]);
            }
            b.Append(')');
        }
        else
        {
            Bare(b, member.Bare ?? throw new FormatException());
        }
        Parameters(b, member.Parameters);
    }

    private static void Parameters(StringBuilder b, IReadOnlyList<KeyValuePair<string, SfBareItem>> parameters)
    {
        foreach (var (key, value) in parameters)
        {
            b.Append(';');
            Key(b, key);
            if (value is not { Kind: SfKind.Boolean, Value: true })
            {
                b.Append('=');
                Bare(b, value);
            }
        }
    }

    private static void Key(StringBuilder b, string key)
    {
        if (key.Length == 0 || !(key[0] is >= 'a' and <= 'z' or '*')
            || key.Any(c => !(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-' or '.' or '*')))
        {
            throw new FormatException();
        }
        b.Append(key);
    }

    private static void Bare(StringBuilder b, SfBareItem item)
    {
        switch (item.Kind)
        {
            case SfKind.Integer:
                long n = (long)item.Value;
                b.Append(n is >= -999_999_999_999_999 and <= 999_999_999_999_999 ? n.ToString(CultureInfo.InvariantCulture) : throw new FormatException());
                break;
            case SfKind.Decimal:
                decimal d = Math.Round((decimal)item.Value, 3, MidpointRounding.ToEven);
                if (Math.Abs(decimal.Truncate(d)) > 999_999_999_999m)
                {
                    throw new FormatException();
                }
                string text = d.ToString("0.0##", CultureInfo.InvariantCulture);
                b.Append(text);
                break;
            case SfKind.String:
                b.Append('"');
                foreach (char c in (string)item.Value)
                {
                    if (c is < ' ' or > '~')
                    {
                        throw new FormatException();
                    }
                    if (c is '"' or '\\')
                    {
                        b.Append('\\');
                    }
                    b.Append(c);
                }
                b.Append('"');
                break;
            case SfKind.Token:
                string token = (string)item.Value;
                if (token.Length == 0 || !(char.IsAsciiLetter(token[0]) || token[0] == '*') || !token.All(SfParser.IsTokenChar))
                {
                    throw new FormatException();
                }
                b.Append(token);
                break;
            case SfKind.ByteSequence:
                b.Append(':').Append(Convert.ToBase64String((byte[])item.Value)).Append(':');
                break;
            case SfKind.Boolean:
                b.Append((bool)item.Value ? "?1" : "?0");
                break;
        }
    }
}
