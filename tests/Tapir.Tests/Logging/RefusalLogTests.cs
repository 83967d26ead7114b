// Refusal logging under a flood (Logging/Log.cs, issue 10 "Speed"): refusals go through a bounded
// background writer; beyond Log.RefusalsPerSecond a second they are counted, not written, and
// summarised in one line; the first lines are always written. In-process, on Log's own writer.
using Tapir.Logging;

namespace Tapir.Tests.Logging;

[Collection(nameof(RefusalLogTests))]
[CollectionDefinition(nameof(RefusalLogTests), DisableParallelization = true)]
public sealed class RefusalLogTests
{
    [Fact]
    public void FloodKeepsTheFirstLinesAndSummarisesTheRest()
    {
        var previous = Log.Output;
        var output = new StringWriter();
        Log.Output = output;
        try
        {
            Log.FlushRefusals(); // nothing left over from another test in this process
            output.GetStringBuilder().Clear();
            const int Flood = 5000;
            for (int i = 0; i < Flood; i++)
            {
                Log.Refusal($"refusal {i}");
            }
            Log.FlushRefusals();
        }
        finally
        {
            Log.Output = previous;
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var written = lines.Where(l => l.Contains("msg=\"refusal ", StringComparison.Ordinal)).ToList();
        var summaries = lines.Where(l => l.Contains("more refusals suppressed", StringComparison.Ordinal)).ToList();
        Assert.Contains(" level=warning msg=\"refusal 0", written[0], StringComparison.Ordinal);
        Assert.InRange(written.Count, Log.RefusalsPerSecond, 3 * Log.RefusalsPerSecond); // a second may turn during the loop
        long suppressed = summaries.Sum(l => long.Parse(System.Text.RegularExpressions.Regex.Match(l, "msg=\"([0-9]+) more").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(5000, written.Count + suppressed);
    }
}
