// A strict reader of the Prometheus text exposition format 0.0.4, as `promtool check metrics`
// applies it: every line is a HELP, a TYPE or a sample; names and label names match the format's
// patterns; label values are quoted with only \\, \" and \n escaped; values are Go floats; each
// metric has one HELP and one TYPE before its samples and appears as one group; counters end in
// _total; no label set repeats. Returns the samples by "name{labels}".
using System.Globalization;
using System.Text.RegularExpressions;

namespace Tapir.Tests.Metrics;

internal static partial class PrometheusGrammar
{
    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) ((?:[^\\\n]|\\\\|\\n)*)$")]
    private static partial Regex Help();

    [GeneratedRegex(@"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$")]
    private static partial Regex Type();

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*=""(?:[^""\\\n]|\\\\|\\""|\\n)*""(?:,[a-zA-Z_][a-zA-Z0-9_]*=""(?:[^""\\\n]|\\\\|\\""|\\n)*"")*)?\})? (\S+)$")]
    private static partial Regex Sample();

    public static Dictionary<string, double> Check(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        var help = new HashSet<string>();
        var types = new Dictionary<string, string>();
        var finished = new HashSet<string>();
        string? current = null;
        if (text.Length == 0)
        {
            return samples; // nothing recorded yet: an empty exposition is a valid one
        }
        Assert.EndsWith("\n", text);
        foreach (string line in text[..^1].Split('\n'))
        {
            if (Help().Match(line) is { Success: true } h)
            {
                Begin(h.Groups[1].Value);
                Assert.True(help.Add(h.Groups[1].Value), $"second HELP: {line}");
            }
            else if (Type().Match(line) is { Success: true } t)
            {
                Begin(t.Groups[1].Value);
                Assert.True(types.TryAdd(t.Groups[1].Value, t.Groups[2].Value), $"second TYPE: {line}");
                Assert.True(t.Groups[2].Value != "counter" || t.Groups[1].Value.EndsWith("_total", StringComparison.Ordinal), $"counter without _total: {line}");
            }
            else if (Sample().Match(line) is { Success: true } s)
            {
                string name = s.Groups[1].Value;
                Assert.Matches(MetricName(), name);
                Assert.Equal(current, name); // samples follow their own HELP and TYPE
                Assert.True(types.ContainsKey(name) && help.Contains(name), $"sample before HELP and TYPE: {line}");
                Assert.True(samples.TryAdd(name + s.Groups[2].Value, Value(s.Groups[3].Value)), $"repeated label set: {line}");
            }
            else
            {
                Assert.Fail($"not a line of the text format: \"{line}\"");
            }
        }
        return samples;

        void Begin(string name)
        {
            if (current != name)
            {
                Assert.True(current is null || finished.Add(current), $"{current} appears twice");
                Assert.DoesNotContain(name, finished);
                current = name;
            }
        }
    }

    private static double Value(string text) => text switch
    {
        "NaN" => double.NaN,
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };
}
