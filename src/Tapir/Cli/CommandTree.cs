// The command tree of DESIGN §1. Every command exists with --help; a command whose issue has not
// landed yet says so and exits 1, so nothing unbuilt can be mistaken for a success.
using System.CommandLine;

namespace Tapir.Cli;

public static class CommandTree
{
    public static readonly Option<string?> ConfigOption = new("--config")
    {
        Description = "Configuration file (default /etc/tapir/tapir.toml; absent means built-in defaults).",
        Recursive = true,
    };

    public static readonly Option<string?> LogFormatOption = new Option<string?>("--log-format")
    {
        Description = "Log line format: text (key=value) or json (default: log.format from the configuration).",
        Recursive = true,
    }.AcceptOnlyFromAmong("text", "json");

    public static RootCommand Build(TextWriter output, TextWriter error)
    {
        var root = new RootCommand("tapir: the DNS TAPIR security layer (internal CA, enrollment, signed aggregates, signed MQTT).");
        root.Options.Add(ConfigOption);
        root.Options.Add(LogFormatOption);
        root.Subcommands.Add(CoreGroup(output));
        root.Subcommands.Add(EdgeGroup(output));
        root.Subcommands.Add(KeyCommands.Build(output));
        root.Subcommands.Add(JwsCommands.Build(output, error));
        root.Subcommands.Add(HttpSigCommands.Build(output));
        root.Subcommands.Add(HttpSigCommands.BuildInspect(output));
        root.Subcommands.Add(VersionCommand.Build(output));
        root.Subcommands.Add(BenchCommand.Build(output));
        return root;
    }

    private static Command CoreGroup(TextWriter output) => Group("core", "The core: CA, enrollment API, aggregate receiver, MQTT broker.",
        CoreCommands.Init(output),
        CoreCommands.Serve(),
        CoreCommands.RenewServerCert(output),
        NodeCommands.Build(output),
        AggregateCommands.Build(output),
        PublishCommands.Publish(output),
        PublishCommands.Keys(output),
        NotBuilt("mosquitto-config", "Write mosquitto.conf, ACL and CRL for an external broker.", null));

    private static Command EdgeGroup(TextWriter output) => Group("edge", "The edge agent on resolver hosts.",
        EdgeCommands.Enroll(output),
        EdgeCommands.Renew(output),
        SubmitCommand.Build(output),
        AuditCommand.Build(output),
        EdgeCommands.Run(),
        EdgeCommands.Publish(output));

    internal static Command Group(string name, string description, params Command[] children)
    {
        var group = new Command(name, description);
        foreach (var child in children)
        {
            group.Subcommands.Add(child);
        }
        return group;
    }

    /// <summary>A command whose implementation has not landed: it accepts any arguments and fails.</summary>
    private static Command NotBuilt(string name, string description, int? issue)
    {
        var command = new Command(name, description + " (not built yet)") { TreatUnmatchedTokensAsErrors = false };
        command.SetAction((Func<ParseResult, int>)(parsed =>
        {
            string where = issue is int n ? $" (issue #{n})" : "";
            throw new TapirException($"'{CommandPath(parsed)}' is not built yet{where}.");
        }));
        return command;
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(result.Command.Name);
        }
        names.Reverse();
        names[0] = "tapir";
        return string.Join(' ', names);
    }
}
