// `tapir core publish`, `tapir core key rotate|retire|list` and `tapir core node configure`
// (issue 11, DESIGN §6.3, §6.5): argument parsing and output only; signing and queueing are
// Core/Publishing and Core/Nodes/NodeConfigurations.cs. Each works on the state directory (that
// access is the authority), queues its signed message in the durable outbox, then waits up to
// --wait for the running core to publish it: exit 0 once published, exit 3 (ExitCodes.Queued)
// when it is safely queued but no running core published it in time (`core serve` will).
using System.CommandLine;
using Tapir.Config;
using Tapir.Core;
using Tapir.Core.Nodes;
using Tapir.Core.Publishing;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Cli;

public static class PublishCommands
{
    private static readonly DurationBounds WaitBounds = new(TimeSpan.Zero, TimeSpan.FromMinutes(10));

    public static Command Publish(TextWriter output)
    {
        var topic = new Argument<string>("TOPIC") { Description = "MQTT topic (no wildcards, not $…, at most 1 KiB)." };
        var file = new Argument<string>("FILE") { Description = $"JSON document to sign and publish (at most {CoreSigner.MaxJsonBytes} bytes; - for standard input)." };
        var retain = new Option<bool>("--retain") { Description = "Publish as a retained message." };
        var (wait, state) = (WaitOption(), Settings.StateOption());
        var publish = new Command("publish", "Sign a JSON file with the core data key and publish it through the running core's broker.") { topic, file, retain, wait, state };
        publish.SetAction(parsed => WithState(parsed, state, (core, db) =>
        {
            var waitFor = Wait(parsed, wait);
            byte[] json = InputFile.Read(parsed.GetValue(file)!, CoreSigner.MaxJsonBytes);
            long seq = CorePublisher.Publish(core.Directory, db, parsed.GetValue(topic)!, json, parsed.GetValue(retain), DateTimeOffset.UtcNow);
            return Report(output, db, parsed.GetValue(topic)!, seq, waitFor);
        }));
        return publish;
    }

    public static Command Configure(TextWriter output)
    {
        var name = new Argument<string>("NAME") { Description = "An added or enrolled node." };
        var file = new Argument<string>("FILE") { Description = $"The node's configuration, a JSON object (at most {CoreSigner.MaxJsonBytes} bytes; - for standard input)." };
        var (wait, state) = (WaitOption(), Settings.StateOption());
        var configure = new Command("configure", "Sign a node's configuration, store it (served by GET /api/v1/node/NAME/configuration) and publish it retained on configuration/NAME/config.") { name, file, wait, state };
        configure.SetAction(parsed => WithState(parsed, state, (core, db) =>
        {
            var waitFor = Wait(parsed, wait);
            string node = parsed.GetValue(name)!;
            byte[] json = InputFile.Read(parsed.GetValue(file)!, CoreSigner.MaxJsonBytes);
            long seq = NodeConfigurations.Configure(core.Directory, db, node, json, DateTimeOffset.UtcNow);
            return Report(output, db, NodeConfigurations.Topic(node), seq, waitFor);
        }));
        return configure;
    }

    public static Command Keys(TextWriter output) => CommandTree.Group("key", "Core data keys: the current one signs, every key not retired is in the trusted JWKS.",
        Rotate(output), Retire(output), List(output));

    private static Command Rotate(TextWriter output)
    {
        var alg = new Option<string>("--alg") { Description = "Algorithm of the new key.", DefaultValueFactory = _ => "EdDSA" };
        var crv = new Option<string?>("--crv") { Description = "Curve for EdDSA: Ed25519 (default) or Ed448." };
        var (wait, state) = (WaitOption(), Settings.StateOption());
        var rotate = new Command("rotate", "Add a new core data key, publish the trusted JWKS (old keys and new) signed by the current key, then sign with the new one.") { alg, crv, wait, state };
        rotate.SetAction(parsed => WithState(parsed, state, (core, db) =>
        {
            var waitFor = Wait(parsed, wait);
            if (!JwsAlgorithms.TryParse(parsed.GetValue(alg), out var algorithm) || JwsAlgorithms.IsHmac(algorithm))
            {
                throw new TapirException($"--alg: '{parsed.GetValue(alg)}' is not an asymmetric JWS algorithm.") { ExitCode = ExitCodes.Usage };
            }
            KeyChange change;
            try
            {
                change = KeyRotation.Rotate(core.Directory, db, algorithm, parsed.GetValue(crv), DateTimeOffset.UtcNow);
            }
            catch (ArgumentException e)
            {
                throw new TapirException($"--crv: {e.Message}") { ExitCode = ExitCodes.Usage };
            }
            output.WriteLine($"core data key {change.Kid} ({JwsAlgorithms.Name(algorithm)}) is now current; {change.SignedBy} stays trusted");
            output.WriteLine($"trusted JWKS signed by {change.SignedBy} queued on {KeyRotation.JwksTopic}");
            return Report(output, db, KeyRotation.JwksTopic, change.Seq, waitFor);
        }));
        return rotate;
    }

    private static Command Retire(TextWriter output)
    {
        var kid = new Argument<string>("KID") { Description = "The key to retire (not the current one; see 'tapir core key list')." };
        var (wait, state) = (WaitOption(), Settings.StateOption());
        var retire = new Command("retire", "Remove a core data key from the trusted JWKS, publish the reduced JWKS signed by the current key, delete its private key.") { kid, wait, state };
        retire.SetAction(parsed => WithState(parsed, state, (core, db) =>
        {
            var waitFor = Wait(parsed, wait);
            var change = KeyRotation.Retire(core.Directory, db, parsed.GetValue(kid)!, DateTimeOffset.UtcNow);
            output.WriteLine($"core data key {change.Kid} retired; trusted JWKS signed by {change.SignedBy} queued on {KeyRotation.JwksTopic}; {change.Resigned} retained messages it signed re-signed and queued");
            return Report(output, db, KeyRotation.JwksTopic, change.Seq, waitFor);
        }));
        return retire;
    }

    private static Command List(TextWriter output)
    {
        var state = Settings.StateOption();
        var list = new Command("list", "List core data keys: kid, algorithm, state (current, trusted, retired), created.") { state };
        list.SetAction(parsed => WithState(parsed, state, (_, db) =>
        {
            output.WriteLine($"{"KID",-44} {"ALG",-6} {"STATE",-8} CREATED");
            foreach (var k in CoreKeyStore.List(db))
            {
                output.WriteLine($"{k.Kid,-44} {k.Alg,-6} {k.State,-8} {DateTimeOffset.FromUnixTimeMilliseconds(k.CreatedAt):u}");
            }
            return ExitCodes.Success;
        }));
        return list;
    }

    private static Option<string> WaitOption() => new("--wait")
    {
        Description = "How long to wait for the running core to publish the message (0s to 10m); exit 3 if it has not by then (it stays queued).",
        DefaultValueFactory = _ => "10s",
    };

    private static TimeSpan Wait(ParseResult parsed, Option<string> wait) => Settings.Duration(parsed.GetValue(wait)!, "--wait", WaitBounds);

    private static int Report(TextWriter output, Microsoft.Data.Sqlite.SqliteConnection db, string topic, long seq, TimeSpan wait)
    {
        if (CorePublisher.WaitPublished(db, seq, wait))
        {
            output.WriteLine($"published {topic} seq {seq}");
            return ExitCodes.Success;
        }
        output.WriteLine($"queued {topic} seq {seq}: not published within {(wait == TimeSpan.Zero ? "0s" : Durations.Format(wait))} (is 'tapir core serve' running?); it stays queued and is published when the core runs");
        return ExitCodes.Queued;
    }

    private static int WithState(ParseResult parsed, Option<string?> state, Func<CoreState, Microsoft.Data.Sqlite.SqliteConnection, int> action)
    {
        var config = Settings.Load(parsed);
        using var core = CoreState.Load(parsed.GetValue(state) ?? config.Core.StateDir);
        using var db = core.OpenDatabase();
        return action(core, db);
    }
}
