// The command tree of DESIGN §1. Every command exists with --help.
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
        MosquittoConfigCommand.Build(output));

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
}
