// Resolving configuration for a command: --config (or the default file) plus TAPIR_* overrides,
// the state directory from --state or the configuration, and bounded duration options.
using System.Collections;
using System.CommandLine;
using Tapir.Config;
using Tapir.Logging;

namespace Tapir.Cli;

public static class Settings
{
    public static Option<string?> StateOption() => new("--state") { Description = "State directory (default: from the configuration)." };

    public static TapirConfig Load(ParseResult parsed)
    {
        var environment = new Dictionary<string, string>();
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            environment[(string)entry.Key] = (string?)entry.Value ?? "";
        }
        var config = ConfigLoader.Load(parsed.GetValue(CommandTree.ConfigOption), environment);
        Log.Level = Log.Parse(config.Log.Level);
        Log.Format = (parsed.GetValue(CommandTree.LogFormatOption) ?? config.Log.Format) == "json" ? LogFormat.Json : LogFormat.Text;
        return config;
    }

    /// <summary>
    /// A duration option's value: refused as a usage error unless it parses and lies within the
    /// bounds (for an option that overrides a configuration key, that key's bounds, named as <paramref name="key"/>).
    /// </summary>
    public static TimeSpan Duration(string text, string option, DurationBounds bounds, string? key = null)
    {
        if (!Durations.TryParse(text, out var value) || !bounds.Contains(value))
        {
            string same = key is null ? "" : $" (as {key})";
            throw new TapirException($"{option}: '{text}' must be a duration {bounds}{same}.") { ExitCode = ExitCodes.Usage };
        }
        return value;
    }
}
