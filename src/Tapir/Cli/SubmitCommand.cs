// `tapir edge submit FILE --type T [--interval START/DURATION] [--content-type CT]` (DESIGN §1, §5):
// prints the stored aggregate's Location; a refusal is the core's reason and exit 1.
using System.CommandLine;
using Tapir.Core.Aggregates;
using Tapir.Edge;
using Tapir.Edge.Submit;

namespace Tapir.Cli;

public static class SubmitCommand
{
    public static Command Build(TextWriter output)
    {
        var file = new Argument<string>("FILE") { Description = "The aggregate to submit (read twice: hashed, then streamed)." };
        var type = new Option<string>("--type") { Description = "Aggregate type (one the core accepts: histogram, vector, test by default).", Required = true };
        var interval = new Option<string?>("--interval") { Description = "Aggregate-Interval: <RFC 3339 start>/<ISO 8601 duration>, signed with the rest." };
        var contentType = new Option<string>("--content-type") { Description = "Content-Type of the file.", DefaultValueFactory = _ => "application/vnd.apache.parquet" };
        var attempts = new Option<int>("--attempts") { Description = "Attempts for transient failures (connection errors, 429, 503).", DefaultValueFactory = _ => 5 };
        var state = Settings.StateOption();
        var submit = new Command("submit", "Submit one RFC 9421-signed aggregate over mTLS.") { file, type, interval, contentType, attempts, state };
        submit.SetAction((Func<ParseResult, CancellationToken, Task<int>>)(async (parsed, cancel) =>
        {
            var config = Settings.Load(parsed);
            string path = parsed.GetValue(file)!;
            string? span = parsed.GetValue(interval);
            if (span is not null && !AggregateReceiver.IsInterval(span))
            {
                throw new TapirException($"--interval: '{span}' is not <RFC 3339 start>/<ISO 8601 duration>.") { ExitCode = ExitCodes.Usage };
            }
            if (!File.Exists(path))
            {
                throw new TapirException($"{path}: no such file.");
            }
            var edge = new EdgeState(parsed.GetValue(state) ?? config.Edge.StateDir);
            if (!edge.IsEnrolled)
            {
                throw new TapirException($"{edge.Directory} is not enrolled; run 'tapir edge enroll' first.");
            }
            var request = new SubmitRequest(path, parsed.GetValue(type)!, parsed.GetValue(contentType)!, span);
            try
            {
                output.WriteLine(await Submitter.SubmitWithRetryAsync(edge, request, TimeProvider.System, Math.Max(1, parsed.GetValue(attempts)), TimeSpan.FromSeconds(1), cancel).ConfigureAwait(false));
            }
            catch (HttpRequestException e)
            {
                throw new TapirException($"cannot reach the core: {e.Message}{(e.InnerException is null ? "" : ": " + e.InnerException.Message)}");
            }
            catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new TapirException("the core did not answer in time.");
            }
            return ExitCodes.Success;
        }));
        return submit;
    }
}
