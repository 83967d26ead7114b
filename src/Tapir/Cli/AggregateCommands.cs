// `tapir core aggregates list [--creator N] [--since T] [--json] | show ID | verify [ID...|--all]`
// (DESIGN §1, §5.4): read the state directory alone (no running core needed). verify prints one
// line per aggregate (ok, payload tampered, metadata tampered, signature invalid) and exits 1 if
// any is not ok; aggregates of removed nodes are verified with their recorded key and marked.
using System.CommandLine;
using System.Globalization;
using Tapir.Config;
using Tapir.Core;
using Tapir.Core.Aggregates;
using Tapir.Storage;

namespace Tapir.Cli;

public static class AggregateCommands
{
    public static Command Build(TextWriter output) =>
        CommandTree.Group("aggregates", "Stored aggregates.", List(output), Show(output), Verify(output));

    private static Command List(TextWriter output)
    {
        var creator = new Option<string?>("--creator") { Description = "Only this node's aggregates." };
        var since = new Option<string?>("--since") { Description = "Only aggregates received since an RFC 3339 time, or within a duration (1h, 7d)." };
        var json = new Option<bool>("--json") { Description = "JSON array with aggrec's field names." };
        var state = Settings.StateOption();
        var list = new Command("list", "List stored aggregates.") { creator, since, json, state };
        list.SetAction(parsed => WithDatabase(parsed, state, (db, _) =>
        {
            long? from = parsed.GetValue(since) is string text ? Since(text).ToUnixTimeMilliseconds() : null;
            var rows = AggregateDatabase.List(db, parsed.GetValue(creator), from);
            if (parsed.GetValue(json))
            {
                output.WriteLine(AggregateMetadata.Json(rows, array: true));
                return ExitCodes.Success;
            }
            output.WriteLine($"{"ID",-22}  {"TYPE",-10} {"CREATOR",-32} {"RECEIVED",-24} {"LENGTH",10}  CONTENT-TYPE");
            foreach (var a in rows)
            {
                output.WriteLine($"{a.Id,-22}  {a.Type,-10} {a.Creator,-32} {AggregateMetadata.Received(a),-24} {a.ContentLength,10}  {a.ContentType}");
            }
            return ExitCodes.Success;
        }));
        return list;
    }

    private static Command Show(TextWriter output)
    {
        var id = new Argument<string>("ID");
        var state = Settings.StateOption();
        var show = new Command("show", "Show one aggregate's metadata and signature base.") { id, state };
        show.SetAction(parsed => WithDatabase(parsed, state, (db, _) =>
        {
            var a = AggregateDatabase.Get(db, parsed.GetValue(id)!) ?? throw new TapirException($"no aggregate {parsed.GetValue(id)}.");
            output.WriteLine($"id: {a.Id}\ntype: {a.Type}\ncreator: {a.Creator}\nreceived: {AggregateMetadata.Received(a)}\ncontent type: {a.ContentType}\nlength: {a.ContentLength}");
            output.WriteLine($"content digest: {a.ContentDigest}\nsha-256 (computed): {Convert.ToHexStringLower(a.Sha256)}\ninterval: {a.Interval ?? "-"}");
            output.WriteLine($"payload: {a.PayloadPath ?? "in the database"}\ndata key: {a.DataKey}\nthumbprint: {a.DataKeyThumbprint}");
            output.WriteLine($"signature-input: {a.SignatureInput}\nsignature: {a.Signature}\nsignature base:\n{System.Text.Encoding.Latin1.GetString(a.SignatureBase)}");
            return ExitCodes.Success;
        }));
        return show;
    }

    private static Command Verify(TextWriter output)
    {
        var ids = new Argument<string[]>("ID") { Arity = ArgumentArity.ZeroOrMore, Description = "Aggregates to verify." };
        var all = new Option<bool>("--all") { Description = "Verify every stored aggregate." };
        var state = Settings.StateOption();
        var verify = new Command("verify", "Re-verify stored signatures and digests offline.") { ids, all, state };
        verify.SetAction(parsed => WithDatabase(parsed, state, (db, directory) =>
        {
            string[] wanted = parsed.GetValue(ids) ?? [];
            if (wanted.Length == 0 == !parsed.GetValue(all))
            {
                throw new TapirException("name aggregate IDs or --all (not both).") { ExitCode = ExitCodes.Usage };
            }
            var removed = CoreDatabase.ListNodes(db).Where(n => n.State == "removed").Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
            var rows = parsed.GetValue(all)
                ? AggregateDatabase.List(db).Select(a => (a.Id, (AggregateRecord?)a)).ToList()
                : wanted.Select(w => (w, AggregateDatabase.Get(db, w))).ToList();
            bool allOk = true;
            foreach (var (id, found) in rows)
            {
                if (found is not AggregateRecord a)
                {
                    output.WriteLine($"{id}: not found");
                    allOk = false;
                    continue;
                }
                var verdict = AggregateVerifier.Verify(a, () => Payload(db, directory, a), out string detail);
                allOk &= verdict == AggregateVerdict.Ok;
                string who = removed.Contains(a.Creator) ? $"{a.Creator}, node removed" : a.Creator;
                output.WriteLine($"{a.Id}: {AggregateVerifier.Describe(verdict)} ({a.Type} from {who}{(verdict == AggregateVerdict.Ok ? "" : $"; {detail}")})");
            }
            return allOk ? ExitCodes.Success : ExitCodes.Failure;
        }));
        return verify;
    }

    private static Stream? Payload(Microsoft.Data.Sqlite.SqliteConnection db, string directory, AggregateRecord a)
    {
        if (a.PayloadPath is null)
        {
            return AggregateDatabase.InlinePayload(db, a.Id) is byte[] inline ? new MemoryStream(inline, writable: false) : null;
        }
        string path = Path.Combine(directory, a.PayloadPath);
        return File.Exists(path) ? File.OpenRead(path) : null;
    }

    private static DateTimeOffset Since(string text)
    {
        if (Durations.TryParse(text, out var ago))
        {
            return DateTimeOffset.UtcNow - ago;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time : throw new TapirException($"--since: '{text}' is neither an RFC 3339 time nor a duration.") { ExitCode = ExitCodes.Usage };
    }

    private static int WithDatabase(ParseResult parsed, Option<string?> state, Func<Microsoft.Data.Sqlite.SqliteConnection, string, int> action)
    {
        var config = Settings.Load(parsed);
        using var core = CoreState.Load(parsed.GetValue(state) ?? config.Core.StateDir);
        using var db = core.OpenDatabase();
        return action(db, core.Directory);
    }
}
