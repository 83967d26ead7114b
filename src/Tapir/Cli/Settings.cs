// Resolving configuration for a command: --config (or the default file) plus TAPIR_* overrides,
// and the state directory from --state or the configuration.
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
        return config;
    }
}
