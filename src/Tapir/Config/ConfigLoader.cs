// Loads tapir.toml (DESIGN §1): Tomlyn's event parser (no reflection, AOT-safe) walked against
// ConfigSchema, then TAPIR_<SECTION>__<KEY> environment overrides. Unknown sections and keys,
// duplicate keys or sections, wrong types and bad values are errors that name the key and line;
// a TAPIR_*__* variable that names no key is an error too, so a typo never passes silently.
using Tomlyn;
using Tomlyn.Parsing;

namespace Tapir.Config;

public static class ConfigLoader
{
    public const string DefaultPath = "/etc/tapir/tapir.toml";

    /// <summary>Loads the file named by --config, or the default file when it exists, or defaults.</summary>
    public static TapirConfig Load(string? path, IReadOnlyDictionary<string, string> environment)
    {
        string? text = null;
        string source = path ?? DefaultPath;
        if (path is not null && !File.Exists(path))
        {
            throw new TapirException($"configuration file {path} does not exist.");
        }
        if (File.Exists(source))
        {
            text = File.ReadAllText(source);
        }
        return Parse(text ?? "", source, environment);
    }

    public static TapirConfig Parse(string text, string source, IReadOnlyDictionary<string, string> environment) =>
        TapirConfig.From(ParseValues(text, source, environment));

    /// <summary>Every key's effective value, by "section.key", after the file and the environment.</summary>
    public static IReadOnlyDictionary<string, object> ParseValues(string text, string source, IReadOnlyDictionary<string, string> environment)
    {
        var values = ConfigSchema.Keys.ToDictionary(k => k.Path, k => k.Default);
        foreach (var (key, value, line) in ReadToml(text, source))
        {
            values[key.Path] = Checked(key, value, $"{source}:{line}: {key.Path}");
        }
        foreach (var (name, raw) in environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (!name.StartsWith("TAPIR_", StringComparison.Ordinal) || !name.Contains("__", StringComparison.Ordinal))
            {
                continue;
            }
            var key = ConfigSchema.Keys.FirstOrDefault(k => k.EnvironmentName == name)
                ?? throw Error($"environment variable {name} names no configuration key.");
            values[key.Path] = Checked(key, FromEnvironment(key, raw, name), $"environment {name}");
        }
        return values;
    }

    private static IEnumerable<(ConfigKey Key, object Value, int Line)> ReadToml(string text, string source)
    {
        var parser = TomlParser.Create(text, new TomlParserOptions { Mode = TomlParserMode.Strict }, null);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<(ConfigKey, object, int)>();
        try
        {
            Expect(parser, TomlParseEventKind.StartDocument, source);
            Expect(parser, TomlParseEventKind.StartTable, source);
            while (Next(parser, source).Kind == TomlParseEventKind.PropertyName)
            {
                string section = parser.GetPropertyName();
                int line = parser.Current.Line;
                if (!ConfigSchema.IsSection(section))
                {
                    throw Error($"{source}:{line}: unknown section or key '{section}'.");
                }
                if (!seen.Add(section))
                {
                    throw Error($"{source}:{line}: section [{section}] is defined twice.");
                }
                if (Next(parser, source).Kind != TomlParseEventKind.StartTable)
                {
                    throw Error($"{source}:{line}: '{section}' must be a table ([{section}]).");
                }
                ReadSection(parser, section, source, seen, result);
            }
        }
        catch (TomlException e)
        {
            throw Error($"{source}: invalid TOML: {e.Message.ReplaceLineEndings(" ")}");
        }
        return result;
    }

    private static void ReadSection(TomlParser parser, string section, string source, HashSet<string> seen, List<(ConfigKey, object, int)> result)
    {
        while (Next(parser, source).Kind == TomlParseEventKind.PropertyName)
        {
            string name = parser.GetPropertyName();
            int line = parser.Current.Line;
            var key = ConfigSchema.Find(section, name) ?? throw Error($"{source}:{line}: unknown key '{section}.{name}'.");
            if (!seen.Add(key.Path))
            {
                throw Error($"{source}:{line}: key '{key.Path}' is set twice.");
            }
            result.Add((key, ReadValue(parser, key, $"{source}:{line}: {key.Path}", source), line));
        }
        if (parser.Current.Kind != TomlParseEventKind.EndTable)
        {
            throw Error($"{source}:{parser.Current.Line}: unexpected {parser.Current.Kind} in [{section}].");
        }
    }

    private static object ReadValue(TomlParser parser, ConfigKey key, string where, string source)
    {
        var kind = Next(parser, source).Kind;
        switch (key.Kind)
        {
            case ConfigKind.String when kind == TomlParseEventKind.String:
                return parser.GetString();
            case ConfigKind.Duration when kind == TomlParseEventKind.String:
                string text = parser.GetString();
                return Durations.TryParse(text, out var duration, out string why) ? duration
                    : throw Error($"{where}: '{text}' is not a duration ({why}).");
            case ConfigKind.Integer when kind == TomlParseEventKind.Integer:
                return parser.Current.GetInt64();
            case ConfigKind.Boolean when kind == TomlParseEventKind.Boolean:
                return parser.Current.GetBoolean();
            case ConfigKind.StringList when kind == TomlParseEventKind.StartArray:
                var items = new List<string>();
                while (Next(parser, source).Kind == TomlParseEventKind.String)
                {
                    items.Add(parser.GetString());
                }
                return parser.Current.Kind == TomlParseEventKind.EndArray ? items.ToArray()
                    : throw Error($"{where}: must be an array of strings.");
            default:
                throw Error($"{where}: must be {Describe(key.Kind)}, not {kind.ToString().ToLowerInvariant()}.");
        }
    }

    private static object FromEnvironment(ConfigKey key, string raw, string name) => key.Kind switch
    {
        ConfigKind.String => raw,
        ConfigKind.Integer => long.TryParse(raw, System.Globalization.NumberStyles.AllowLeadingSign, null, out long n) ? n
            : throw Error($"environment {name}: '{raw}' is not an integer."),
        ConfigKind.Boolean => raw switch
        {
            "true" => true,
            "false" => false,
            _ => throw Error($"environment {name}: '{raw}' is not true or false."),
        },
        ConfigKind.Duration => Durations.TryParse(raw, out var d, out string why) ? d
            : throw Error($"environment {name}: '{raw}' is not a duration ({why})."),
        ConfigKind.StringList => raw.Length == 0 ? Array.Empty<string>() : raw.Split(',', StringSplitOptions.TrimEntries),
        _ => throw new InvalidOperationException($"unhandled kind {key.Kind}"),
    };

    private static object Checked(ConfigKey key, object value, string where)
    {
        string? problem = key.Check?.Invoke(value);
        return problem is null ? value : throw Error($"{where}: {problem}.");
    }

    private static TomlParseEvent Next(TomlParser parser, string source) =>
        parser.MoveNext() ? parser.Current : throw Error($"{source}: unexpected end of TOML.");

    private static void Expect(TomlParser parser, TomlParseEventKind kind, string source)
    {
        if (Next(parser, source).Kind != kind)
        {
            throw Error($"{source}: unexpected TOML structure.");
        }
    }

    private static string Describe(ConfigKind kind) => kind switch
    {
        ConfigKind.String => "a string",
        ConfigKind.Integer => "an integer",
        ConfigKind.Boolean => "true or false",
        ConfigKind.Duration => "a duration string such as \"24h\"",
        _ => "an array of strings",
    };

    private static TapirException Error(string message) => new($"configuration: {message}");
}
