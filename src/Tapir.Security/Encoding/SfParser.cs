// Parser for Structured Field Values (RFC 8941 §4.2; RFC 9651's Date and Display String are
// refused). Input is the field value with several field lines already combined with ", ". Anything the grammar does not allow fails; the parser
// never throws to its caller. Repeated dictionary or parameter keys follow the RFC (the last
// value wins, in the first position) and are flagged in HadDuplicateKey for strict callers.
using System.Globalization;

namespace Tapir.Security.Encoding;

public sealed class SfParser
{
    private readonly string input;
    private int pos;

    private SfParser(string input) => this.input = input;

    /// <summary>True when a dictionary or parameter key appeared more than once.</summary>
    public bool HadDuplicateKey { get; private set; }

    public static bool TryParseItem(string text, [NotNullWhen(true)] out SfMember? item) => Run(text, p => p.ParseItem(), out item, out _);

    public static bool TryParseList(string text, [NotNullWhen(true)] out IReadOnlyList<SfMember>? list) => Run(text, p => p.ParseList(), out list, out _);

    public static bool TryParseDictionary(string text, [NotNullWhen(true)] out IReadOnlyList<KeyValuePair<string, SfMember>>? dictionary) =>
        Run(text, p => p.ParseDictionary(), out dictionary, out _);

    /// <summary>A dictionary in which every key appears once (repeated keys, even in parameters, are DuplicateMember).</summary>
    public static bool TryParseStrictDictionary(string text, [NotNullWhen(true)] out IReadOnlyList<KeyValuePair<string, SfMember>>? dictionary, out Rejection why)
    {
        bool ok = Run(text, p => p.ParseDictionary(), out dictionary, out bool duplicate);
        why = duplicate ? Rejection.DuplicateMember : ok ? Rejection.None : Rejection.Malformed;
        if (why != Rejection.None)
        {
            dictionary = null; // a refused dictionary is not handed back
        }
        return why == Rejection.None;
    }

    private static bool Run<T>(string text, Func<SfParser, T> parse, [NotNullWhen(true)] out T? result, out bool duplicate) where T : class
    {
        result = null;
        duplicate = false;
        var parser = new SfParser(text);
        try
        {
            parser.SkipSp();
            var value = parse(parser);
            parser.SkipSp();
            if (parser.pos != text.Length)
            {
                return false;
            }
            result = value;
            duplicate = parser.HadDuplicateKey;
            return true;
        }
        catch (FormatException)
        {
            duplicate = parser.HadDuplicateKey;
            return false;
        }
    }

    private char Peek => pos < input.Length ? input[pos] : '\0';

    private bool AtEnd => pos >= input.Length;

    private static FormatException Fail() => new();

    private void SkipSp()
    {
        while (!AtEnd && input[pos] == ' ')
        {
            pos++;
        }
    }

    private void SkipOws()
    {
        while (!AtEnd && input[pos] is ' ' or '\t')
        {
            pos++;
        }
    }

    private List<SfMember> ParseList()
    {
        var members = new List<SfMember>();
        while (!AtEnd)
        {
            members.Add(ParseItemOrInnerList());
            if (!NextMember())
            {
                break;
            }
        }
        return members;
    }

    private List<KeyValuePair<string, SfMember>> ParseDictionary()
    {
        var members = new List<KeyValuePair<string, SfMember>>();
        while (!AtEnd)
        {
            string key = ParseKey();
            SfMember value;
            if (Peek == '=')
            {
                pos++;
                value = ParseItemOrInnerList();
            }
            else
            {
                value = new SfMember(SfBareItem.Boolean(true), null, ParseParameters());
            }
            Set(members, key, value);
            if (!NextMember())
            {
                break;
            }
        }
        return members;
    }

    /// <summary>After a member: end of input, or a comma followed by another member.</summary>
    private bool NextMember()
    {
        SkipOws();
        if (AtEnd)
        {
            return false;
        }
        if (input[pos++] != ',')
        {
            throw Fail();
        }
        SkipOws();
        if (AtEnd)
        {
            throw Fail(); // trailing comma
        }
        return true;
    }

    private SfMember ParseItemOrInnerList() => Peek == '(' ? ParseInnerList() : ParseItem();

    private SfMember ParseInnerList()
    {
        pos++; // '('
        var items = new List<SfMember>();
        while (true)
        {
            SkipSp();
            if (Peek == ')')
            {
                pos++;
                return new SfMember(null, items, ParseParameters());
            }
            items.Add(ParseItem());
            if (Peek is not (' ' or ')'))
            {
                throw Fail();
            }
        }
    }

    private SfMember ParseItem()
    {
        var bare = ParseBareItem();
        return new SfMember(bare, null, ParseParameters());
    }

    private List<KeyValuePair<string, SfBareItem>> ParseParameters()
    {
        var parameters = new List<KeyValuePair<string, SfBareItem>>();
        while (Peek == ';')
        {
            pos++;
            SkipSp();
            string key = ParseKey();
            var value = SfBareItem.Boolean(true);
            if (Peek == '=')
            {
                pos++;
                value = ParseBareItem();
            }
            Set(parameters, key, value);
        }
        return parameters;
    }

    private void Set<T>(List<KeyValuePair<string, T>> list, string key, T value)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i].Key == key)
            {
                HadDuplicateKey = true;
                list[i] = new(key, value);
                return;
            }
        }
        list.Add(new(key, value));
    }

    private string ParseKey()
    {
        int start = pos;
        if (!(Peek is >= 'a' and <= 'z' or '*'))
        {
            throw Fail();
        }
        while (Peek is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-' or '.' or '*')
        {
            pos++;
        }
        return input[start..pos];
    }

    private SfBareItem ParseBareItem() => Peek switch
    {
        '-' or (>= '0' and <= '9') => ParseNumber(),
        '"' => SfBareItem.String(ParseString()),
        '*' or (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') => ParseToken(),
        ':' => SfBareItem.Bytes(ParseByteSequence()),
        '?' => ParseBoolean(),
        _ => throw Fail(),
    };

    private SfBareItem ParseNumber()
    {
        int start = pos;
        if (Peek == '-')
        {
            pos++;
        }
        if (!char.IsAsciiDigit(Peek))
        {
            throw Fail();
        }
        int digitsStart = pos;
        while (char.IsAsciiDigit(Peek))
        {
            pos++;
        }
        if (Peek != '.')
        {
            if (pos - digitsStart > 15)
            {
                throw Fail();
            }
            return SfBareItem.Integer(long.Parse(input.AsSpan(start, pos - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
        }
        if (pos - digitsStart > 12)
        {
            throw Fail();
        }
        pos++; // '.'
        int fractionStart = pos;
        while (char.IsAsciiDigit(Peek))
        {
            pos++;
        }
        if (pos - fractionStart is 0 or > 3)
        {
            throw Fail();
        }
        return SfBareItem.Decimal(decimal.Parse(input.AsSpan(start, pos - start), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture));
    }

    private string ParseString()
    {
        pos++; // '"'
        var builder = new System.Text.StringBuilder();
        while (!AtEnd)
        {
            char c = input[pos++];
            if (c == '\\')
            {
                if (AtEnd || input[pos] is not ('"' or '\\'))
                {
                    throw Fail();
                }
                builder.Append(input[pos++]);
            }
            else if (c == '"')
            {
                return builder.ToString();
            }
            else if (c is < ' ' or > '~')
            {
                throw Fail();
            }
            else
            {
                builder.Append(c);
            }
        }
        throw Fail();
    }

    private SfBareItem ParseToken()
    {
        int start = pos++;
        while (IsTokenChar(Peek))
        {
            pos++;
        }
        return SfBareItem.Token(input[start..pos]);
    }

    internal static bool IsTokenChar(char c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9'
        or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~' or ':' or '/';

    private byte[] ParseByteSequence()
    {
        int start = ++pos;
        int end = input.IndexOf(':', start);
        if (end < 0)
        {
            throw Fail();
        }
        pos = end + 1;
        var text = input.AsSpan(start, end - start);
        foreach (char c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '='))
            {
                throw Fail();
            }
        }
        var buffer = new byte[text.Length * 3 / 4 + 3];
        return Convert.TryFromBase64Chars(text, buffer, out int written) ? buffer[..written] : throw Fail();
    }

    private SfBareItem ParseBoolean()
    {
        pos++;
        char c = Peek;
        pos++;
        return c switch
        {
            '1' => SfBareItem.Boolean(true),
            '0' => SfBareItem.Boolean(false),
            _ => throw Fail(),
        };
    }
}
