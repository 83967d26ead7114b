// `tapir edge audit [--json]` (issue 13): prints the edge's outbound audit log, one line per thing
// sent (time, kind, target, size, SHA-256, signature label and kid, outcome), or the raw JSON lines.
using System.CommandLine;
using Tapir.Edge.Audit;

namespace Tapir.Cli;

public static class AuditCommand
{
    public static Command Build(TextWriter output)
    {
        var json = new Option<bool>("--json") { Description = "Print the records as JSON lines, as stored." };
        var state = Settings.StateOption();
        var audit = new Command("audit", "Print the outbound audit log: every aggregate and message this edge sent.") { json, state };
        audit.SetAction(parsed =>
        {
            var config = Settings.Load(parsed);
            string directory = parsed.GetValue(state) ?? config.Edge.StateDir;
            if (!Directory.Exists(directory))
            {
                throw new TapirException($"{directory}: no such edge state directory.");
            }
            if (parsed.GetValue(json))
            {
                OutboundAudit.Read(directory); // refuses a corrupt log before printing any of it
                string path = Path.Combine(directory, OutboundAudit.FileName);
                output.Write(File.Exists(path) ? File.ReadAllText(path) : "");
                return ExitCodes.Success;
            }
            foreach (var r in OutboundAudit.Read(directory))
            {
                output.WriteLine($"{r.Time.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}  {r.Kind,-9}  {r.Target}  {r.Bytes} bytes  sha256:{r.Sha256[..16]}…  {r.Label} kid={r.Kid}  {r.Outcome}");
            }
            return ExitCodes.Success;
        });
        return audit;
    }
}
