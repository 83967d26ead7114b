// `tapir core node add|list|show|remove` (DESIGN §1, §4.1). They work on the database directly,
// whether or not `core serve` runs; a running server applies a removal within 2 seconds.
using System.CommandLine;
using System.Security.Cryptography;
using Tapir.Config;
using Tapir.Core;
using Tapir.Core.Enrollment;
using Tapir.Security.Encoding;
using Tapir.Security.Pki;
using Tapir.Storage;

namespace Tapir.Cli;

public static class NodeCommands
{
    public static Command Build(TextWriter output) =>
        CommandTree.Group("node", "Node lifecycle.", Add(output), List(output), ShowCommand(output), Remove(output));

    private static Command Add(TextWriter output)
    {
        var name = new Argument<string>("NAME") { Description = "Node name (lower-case DNS name)." };
        var expires = new Option<string?>("--expires") { Description = "Lifetime of the enrollment secret (default: core.enrollment_secret_lifetime)." };
        var outFile = new Option<string?>("--out") { Description = "Write the credentials to this file (mode 0600) instead of stdout." };
        var state = Settings.StateOption();
        var add = new Command("add", "Create a node and print its enrollment credentials.") { name, expires, outFile, state };
        add.SetAction(parsed =>
        {
            var (config, core) = Open(parsed, state);
            using (core)
            {
                string node = parsed.GetValue(name)!;
                if (!NodeName.IsValid(node))
                {
                    throw new TapirException($"'{node}' is not a lower-case DNS name.") { ExitCode = ExitCodes.Usage };
                }
                var lifetime = parsed.GetValue(expires) is string text
                    ? Settings.Duration(text, "--expires", ConfigSchema.EnrollmentSecretLifetime, "core.enrollment_secret_lifetime")
                    : config.Core.EnrollmentSecretLifetime;
                byte[] secret = RandomNumberGenerator.GetBytes(32);
                string kid = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                var now = DateTimeOffset.UtcNow;
                using var db = core.OpenDatabase();
                if (CoreDatabase.GetNode(db, node) is not null)
                {
                    throw new TapirException($"node {node} already exists.");
                }
                CoreDatabase.AddNode(db, node, kid, secret, now, now + lifetime);
                string credentials = Json.Object(w =>
                {
                    w.WriteString("name", node);
                    w.WriteStartObject("key");
                    w.WriteString("kty", "oct");
                    w.WriteString("kid", kid);
                    w.WriteString("alg", "HS256");
                    w.WriteString("k", Base64Url.Encode(secret));
                    w.WriteEndObject();
                    w.WriteString("nodeman_url", config.Core.PublicUrl.OriginalString);
                    w.WriteString("ca_fingerprint", core.CaFingerprint);
                }) + "\n";
                CryptographicOperations.ZeroMemory(secret);
                if (parsed.GetValue(outFile) is string path)
                {
                    PrivateKeyFile.Write(path, System.Text.Encoding.UTF8.GetBytes(credentials));
                    output.WriteLine($"node {node} created; credentials in {path} (valid until {now + lifetime:u})");
                }
                else
                {
                    output.Write(credentials);
                }
            }
            return ExitCodes.Success;
        });
        return add;
    }

    private static Command List(TextWriter output)
    {
        var listState = Settings.StateOption();
        var list = new Command("list", "List nodes: name, state, key algorithm, thumbprint, certificate expiry.") { listState };
        list.SetAction(parsed =>
        {
            var (_, core) = Open(parsed, listState);
            using (core)
            using (var db = core.OpenDatabase())
            {
                output.WriteLine($"{"NAME",-32} {"STATE",-9} {"ALG",-6} {"THUMBPRINT",-44} CERT EXPIRES");
                foreach (var n in CoreDatabase.ListNodes(db))
                {
                    var expiry = CoreDatabase.Certificates(db, n.Name).Where(c => c.RevokedAt is null).Select(c => (long?)c.NotAfter).Max();
                    output.WriteLine($"{n.Name,-32} {n.State,-9} {n.DataKeyAlg ?? "-",-6} {n.DataKeyThumbprint ?? "-",-44} {(expiry is long e ? DateTimeOffset.FromUnixTimeSeconds(e).ToString("u", System.Globalization.CultureInfo.InvariantCulture) : "-")}");
                }
            }
            return ExitCodes.Success;
        });
        return list;
    }

    private static Command ShowCommand(TextWriter output)
    {
        var showName = new Argument<string>("NAME");
        var showState = Settings.StateOption();
        var show = new Command("show", "Show one node with its data key and certificates.") { showName, showState };
        show.SetAction(parsed => Show(parsed, showName, showState, output));
        return show;
    }

    private static Command Remove(TextWriter output)
    {
        var removeName = new Argument<string>("NAME");
        var removeState = Settings.StateOption();
        var remove = new Command("remove", "Remove a node: revoke its certificates, drop its key from trust.") { removeName, removeState };
        remove.SetAction(parsed =>
        {
            var (_, core) = Open(parsed, removeState);
            using (core)
            using (var db = core.OpenDatabase())
            {
                string node = parsed.GetValue(removeName)!;
                if (!CoreDatabase.RemoveNode(db, node, DateTimeOffset.UtcNow))
                {
                    throw new TapirException(CoreDatabase.GetNode(db, node) is null ? $"node {node} does not exist." : $"node {node} is already removed.");
                }
                output.WriteLine($"node {node} removed; its certificates are revoked");
            }
            return ExitCodes.Success;
        });
        return remove;
    }

    private static int Show(ParseResult parsed, Argument<string> name, Option<string?> state, TextWriter output)
    {
        var (_, core) = Open(parsed, state);
        using (core)
        using (var db = core.OpenDatabase())
        {
            var n = CoreDatabase.GetNode(db, parsed.GetValue(name)!) ?? throw new TapirException($"node {parsed.GetValue(name)} does not exist.");
            output.WriteLine($"name: {n.Name}");
            output.WriteLine($"state: {n.State}");
            output.WriteLine($"created: {DateTimeOffset.FromUnixTimeSeconds(n.CreatedAt):u}");
            if (n.EnrollmentExpires is long e)
            {
                output.WriteLine($"enrollment secret expires: {DateTimeOffset.FromUnixTimeSeconds(e):u}");
            }
            output.WriteLine($"data key: {n.DataKey ?? "-"}");
            output.WriteLine($"thumbprint: {n.DataKeyThumbprint ?? "-"}");
            foreach (var c in CoreDatabase.Certificates(db, n.Name))
            {
                output.WriteLine($"certificate {c.Serial}: {DateTimeOffset.FromUnixTimeSeconds(c.NotBefore):u} to {DateTimeOffset.FromUnixTimeSeconds(c.NotAfter):u}{(c.RevokedAt is long r ? $", revoked {DateTimeOffset.FromUnixTimeSeconds(r):u}" : "")}");
            }
        }
        return ExitCodes.Success;
    }

    private static (TapirConfig, CoreState) Open(ParseResult parsed, Option<string?> state)
    {
        var config = Settings.Load(parsed);
        return (config, CoreState.Load(parsed.GetValue(state) ?? config.Core.StateDir));
    }
}
