// `tapir core node add|list|show|remove` (DESIGN §1, §4.1; `configure` is in PublishCommands.cs): argument parsing and output only; the
// lifecycle rules (names, reserved names, states, revocation) are Core/Nodes/NodeService.cs.
using System.CommandLine;
using System.Globalization;
using Tapir.Config;
using Tapir.Core;
using Tapir.Core.Nodes;
using Tapir.Storage;

namespace Tapir.Cli;

public static class NodeCommands
{
    public static Command Build(TextWriter output) =>
        CommandTree.Group("node", "Node lifecycle.", Add(output), List(output), ShowCommand(output), Remove(output), PublishCommands.Configure(output));

    private static Command Add(TextWriter output)
    {
        var name = new Argument<string>("NAME") { Description = "Node name (lower-case DNS name)." };
        var expires = new Option<string?>("--expires") { Description = "Lifetime of the enrollment secret (default: core.enrollment_secret_lifetime)." };
        var outFile = new Option<string?>("--out") { Description = "Write the credentials to this file (mode 0600) instead of stdout." };
        var state = Settings.StateOption();
        var add = new Command("add", "Create a node and print its enrollment credentials.") { name, expires, outFile, state };
        add.SetAction(parsed => WithService(parsed, state, nodes =>
        {
            TimeSpan? lifetime = parsed.GetValue(expires) is string text
                ? Settings.Duration(text, "--expires", ConfigSchema.EnrollmentSecretLifetime, "core.enrollment_secret_lifetime")
                : null;
            string? path = parsed.GetValue(outFile);
            var added = nodes.Add(parsed.GetValue(name)!, lifetime, node =>
            {
                try
                {
                    if (path is not null)
                    {
                        PrivateKeyFile.Write(path, System.Text.Encoding.UTF8.GetBytes(node.Credentials));
                    }
                    else
                    {
                        output.Write(node.Credentials);
                        output.Flush();
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new TapirException($"cannot write the credentials to {path ?? "standard output"} ({e.Message}); node {node.Name} was not created.");
                }
            });
            if (path is not null)
            {
                output.WriteLine($"node {added.Name} created; credentials in {path} (valid until {added.SecretExpires:u})");
            }
        }));
        return add;
    }

    private static Command List(TextWriter output)
    {
        var listState = Settings.StateOption();
        var list = new Command("list", "List nodes: name, state, key algorithm, thumbprint, certificate expiry, role (core roles: core.core_roles).") { listState };
        list.SetAction(parsed => WithService(parsed, listState, nodes =>
        {
            var roles = Settings.Load(parsed).Core.CoreRoles;
            output.WriteLine($"{"NAME",-32} {"STATE",-9} {"ALG",-6} {"THUMBPRINT",-44} {"CERT EXPIRES",-20} ROLE");
            foreach (var (n, expiry) in nodes.List())
            {
                output.WriteLine($"{n.Name,-32} {n.State,-9} {n.DataKeyAlg ?? "-",-6} {n.DataKeyThumbprint ?? "-",-44} {(expiry is long e ? Time(e).ToString("u", CultureInfo.InvariantCulture) : "-"),-20} {(roles.Contains(n.Name) ? "core" : "edge")}");
            }
        }));
        return list;
    }

    private static Command ShowCommand(TextWriter output)
    {
        var showName = new Argument<string>("NAME");
        var showState = Settings.StateOption();
        var show = new Command("show", "Show one node with its data key and certificates.") { showName, showState };
        show.SetAction(parsed => WithService(parsed, showState, nodes => Show(nodes.Show(parsed.GetValue(showName)!), output)));
        return show;
    }

    private static Command Remove(TextWriter output)
    {
        var removeName = new Argument<string>("NAME");
        var removeState = Settings.StateOption();
        var remove = new Command("remove", "Remove a node: revoke its certificates, drop its key from trust.") { removeName, removeState };
        remove.SetAction(parsed => WithService(parsed, removeState, nodes =>
        {
            string node = parsed.GetValue(removeName)!;
            nodes.Remove(node);
            output.WriteLine($"node {node} removed; its certificates are revoked");
        }));
        return remove;
    }

    private static void Show(NodeDetails details, TextWriter output)
    {
        var n = details.Node;
        output.WriteLine($"name: {n.Name}");
        output.WriteLine($"state: {n.State}");
        output.WriteLine($"created: {Time(n.CreatedAt):u}");
        if (n.EnrollmentExpires is long e)
        {
            output.WriteLine($"enrollment secret expires: {Time(e):u}");
        }
        output.WriteLine($"data key: {n.DataKey ?? "-"}");
        output.WriteLine($"thumbprint: {n.DataKeyThumbprint ?? "-"}");
        foreach (var c in details.Certificates)
        {
            output.WriteLine($"certificate {c.Serial}: {Time(c.NotBefore):u} to {Time(c.NotAfter):u}{(c.RevokedAt is long r ? $", revoked {Time(r):u}" : "")}");
        }
    }

    private static DateTimeOffset Time(long unixSeconds) => DateTimeOffset.FromUnixTimeSeconds(unixSeconds);

    private static int WithService(ParseResult parsed, Option<string?> state, Action<NodeService> action)
    {
        var config = Settings.Load(parsed);
        using var core = CoreState.Load(parsed.GetValue(state) ?? config.Core.StateDir);
        action(new NodeService(core, config.Core, TimeProvider.System));
        return ExitCodes.Success;
    }
}
