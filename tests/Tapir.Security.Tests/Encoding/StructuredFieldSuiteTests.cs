// The httpwg structured-field suite, every file: parse tests (must_fail refused, can_fail either,
// others parsed to exactly the expected model and serialized to the canonical form) and the
// serialisation-only tests. The parsed model is compared through the suite's own JSON shape.
// date.json and display-string.json test RFC 9651 types outside the TAPIR profile: as the
// vectors' README advises for an RFC 8941 parser, their expectations are inverted (all refused).
using System.Text.Json;
using System.Text.Json.Nodes;
using Tapir.Security.Encoding;
using Xunit.Abstractions;

namespace Tapir.Security.Tests.Encoding;

public sealed class StructuredFieldSuiteTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Vectors.PathOf("structured-fields"), "*.json").Order())
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    public static TheoryData<string> SerialisationFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Vectors.PathOf("structured-fields/serialisation-tests"), "*.json").Order())
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ParseTests(string file)
    {
        using var doc = Vectors.Load($"structured-fields/{file}");
        int run = 0;
        var failures = new List<string>();
        bool outsideProfile = file is "date.json" or "display-string.json";
        foreach (var test in doc.RootElement.EnumerateArray())
        {
            run++;
            string name = test.GetProperty("name").GetString()!;
            string type = test.GetProperty("header_type").GetString()!;
            string raw = string.Join(", ", test.GetProperty("raw").EnumerateArray().Select(r => r.GetString()));
            bool mustFail = outsideProfile || test.TryGetProperty("must_fail", out var mf) && mf.GetBoolean();
            bool canFail = test.TryGetProperty("can_fail", out var cf) && cf.GetBoolean();
            bool ok = Parse(type, raw, out var parsed, out var serialized);
            if (mustFail)
            {
                if (ok) { failures.Add($"{name}: parsed, must fail"); }
                continue;
            }
            if (!ok)
            {
                if (!canFail) { failures.Add($"{name}: refused"); }
                continue;
            }
            if (!JsonNode.DeepEquals(Normalise(JsonNode.Parse(test.GetProperty("expected").GetRawText())), Normalise(parsed)))
            {
                failures.Add($"{name}: parsed {parsed?.ToJsonString()} expected {test.GetProperty("expected").GetRawText()}");
                continue;
            }
            string expected = test.TryGetProperty("canonical", out var canonical)
                ? string.Join(", ", canonical.EnumerateArray().Select(c => c.GetString()))
                : raw;
            if (serialized != expected)
            {
                failures.Add($"{name}: serialized '{serialized}' expected '{expected}'");
            }
        }
        output.WriteLine($"{file}: {run} tests{(outsideProfile ? " (RFC 9651 type outside the profile: every one refused)" : "")}");
        Assert.True(run > 0);
        Assert.Empty(failures);
    }

    [Theory]
    [MemberData(nameof(SerialisationFiles))]
    public void SerialisationTests(string file)
    {
        using var doc = Vectors.Load($"structured-fields/serialisation-tests/{file}");
        int run = 0;
        var failures = new List<string>();
        foreach (var test in doc.RootElement.EnumerateArray())
        {
            run++;
            string name = test.GetProperty("name").GetString()!;
            string type = test.GetProperty("header_type").GetString()!;
            bool mustFail = test.TryGetProperty("must_fail", out var mf) && mf.GetBoolean();
            bool ok;
            string text;
            try
            {
                ok = Serialize(type, test.GetProperty("expected"), out text);
            }
            catch (FormatException)
            {
                ok = false;
                text = "";
            }
            if (mustFail)
            {
                if (ok) { failures.Add($"{name}: serialized '{text}', must fail"); }
                continue;
            }
            string expected = string.Join(", ", test.GetProperty("canonical").EnumerateArray().Select(c => c.GetString()));
            if (!ok || text != expected)
            {
                failures.Add($"{name}: got '{text}' expected '{expected}'");
            }
        }
        output.WriteLine($"serialisation-tests/{file}: {run} tests");
        Assert.Empty(failures);
    }

    private static bool Parse(string type, string raw, out JsonNode? model, out string serialized)
    {
        model = null;
        serialized = "";
        switch (type)
        {
            case "item":
                if (!SfParser.TryParseItem(raw, out var item)) { return false; }
                model = Member(item);
                return SfSerializer.TrySerializeItem(item, out serialized);
            case "list":
                if (!SfParser.TryParseList(raw, out var list)) { return false; }
                model = new JsonArray(list.Select(Member).ToArray());
                return SfSerializer.TrySerializeList(list, out serialized);
            default:
                if (!SfParser.TryParseDictionary(raw, out var dict)) { return false; }
                model = new JsonArray(dict.Select(kv => (JsonNode)new JsonArray(kv.Key, Member(kv.Value))).ToArray());
                return SfSerializer.TrySerializeDictionary(dict, out serialized);
        }
    }

    private static bool Serialize(string type, JsonElement expected, out string text) => type switch
    {
        "item" => SfSerializer.TrySerializeItem(ToMember(expected), out text),
        "list" => SfSerializer.TrySerializeList(expected.EnumerateArray().Select(ToMember).ToList(), out text),
        _ => SfSerializer.TrySerializeDictionary(expected.EnumerateArray()
            .Select(kv => new KeyValuePair<string, SfMember>(kv[0].GetString()!, ToMember(kv[1]))).ToList(), out text),
    };

    // The suite's shapes: item = [bare, params]; inner list = [[items], params]; params = [[k, bare]].
    private static JsonNode Member(SfMember m) => m.IsInnerList
        ? new JsonArray(new JsonArray(m.InnerList!.Select(Member).ToArray()), Params(m.Parameters))
        : new JsonArray(Bare(m.Bare!.Value), Params(m.Parameters));

    private static JsonArray Params(IReadOnlyList<KeyValuePair<string, SfBareItem>> ps) =>
        new(ps.Select(p => (JsonNode)new JsonArray(p.Key, Bare(p.Value))).ToArray());

    private static JsonNode? Bare(SfBareItem b) => b.Kind switch
    {
        SfKind.Integer => JsonValue.Create((long)b.Value),
        SfKind.Decimal => JsonValue.Create((decimal)b.Value),
        SfKind.String => JsonValue.Create((string)b.Value),
        SfKind.Boolean => JsonValue.Create((bool)b.Value),
        SfKind.Token => Typed("token", (string)b.Value),
        _ => Typed("binary", Base32((byte[])b.Value)),
    };

    private static JsonObject Typed(string type, string value) => new() { ["__type"] = type, ["value"] = value };

    private static SfMember ToMember(JsonElement e)
    {
        var parameters = e[1].EnumerateArray().Select(p => new KeyValuePair<string, SfBareItem>(p[0].GetString()!, ToBare(p[1]))).ToList();
        return e[0].ValueKind == JsonValueKind.Array
            ? new SfMember(null, e[0].EnumerateArray().Select(ToMember).ToList(), parameters)
            : new SfMember(ToBare(e[0]), null, parameters);
    }

    private static SfBareItem ToBare(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.True or JsonValueKind.False => SfBareItem.Boolean(e.GetBoolean()),
        JsonValueKind.String => SfBareItem.String(e.GetString()!),
        JsonValueKind.Number when e.GetRawText().IndexOfAny(['.', 'e', 'E']) >= 0 => SfBareItem.Decimal(decimal.Parse(e.GetRawText(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture)),
        JsonValueKind.Number => e.TryGetInt64(out long n) ? SfBareItem.Integer(n) : throw new FormatException(),
        _ => e.GetProperty("__type").GetString() switch
        {
            "token" => SfBareItem.Token(e.GetProperty("value").GetString()!),
            "binary" => SfBareItem.Bytes(FromBase32(e.GetProperty("value").GetString()!)),
            _ => throw new FormatException("RFC 9651 type outside the profile"),
        },
    };

    /// <summary>Numbers compared by value (1.50 equals 1.5), everything else as is.</summary>
    private static JsonNode? Normalise(JsonNode? node) => node switch
    {
        JsonArray a => new JsonArray(a.Select(Normalise).ToArray()),
        JsonObject o => new JsonObject(o.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, Normalise(kv.Value)))),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => JsonValue.Create(decimal.Parse(v.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture) / 1.000m),
        _ => node?.DeepClone(),
    };

    private const string Base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    private static string Base32(byte[] data)
    {
        var sb = new System.Text.StringBuilder();
        int buffer = 0, bits = 0;
        foreach (byte b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                sb.Append(Base32Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0)
        {
            sb.Append(Base32Alphabet[(buffer << (5 - bits)) & 31]);
        }
        while (sb.Length % 8 != 0)
        {
            sb.Append('=');
        }
        return sb.ToString();
    }

    private static byte[] FromBase32(string text)
    {
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (char c in text.TrimEnd('='))
        {
            buffer = (buffer << 5) | Base32Alphabet.IndexOf(c);
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }
        return bytes.ToArray();
    }
}
