// Prometheus text exposition (format 0.0.4) of one meter ("tapir" for the core, "tapir.edge" for
// `tapir edge run`): a MeterListener sums counter and
// up-down-counter measurements per label set, reads observable gauges at each scrape, and writes
// HELP, TYPE and one sample line per label set, names and labels sorted so scrapes are stable.
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Tapir.Metrics;

public sealed class PrometheusText : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly ConcurrentDictionary<Instrument, ConcurrentDictionary<string, double>> series = new();
    private readonly Lock scrape = new();

    public PrometheusText(string meterName = TapirMetrics.MeterName)
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == meterName)
            {
                series.TryAdd(instrument, new ConcurrentDictionary<string, double>(StringComparer.Ordinal));
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i, value, tags));
        listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Record(i, value, tags));
        listener.Start();
    }

    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public string Scrape()
    {
        lock (scrape)
        {
            foreach (var gauge in series.Keys.Where(i => i.IsObservable))
            {
                series[gauge].Clear(); // a gauge shows only what it observes now
            }
            listener.RecordObservableInstruments();
            var text = new StringBuilder();
            foreach (var (instrument, values) in series.OrderBy(s => s.Key.Name, StringComparer.Ordinal))
            {
                bool counter = instrument is Counter<long> or Counter<double> or ObservableCounter<long> or ObservableCounter<double>;
                text.Append("# HELP ").Append(instrument.Name).Append(' ').Append(EscapeHelp(instrument.Description ?? instrument.Name)).Append('\n');
                text.Append("# TYPE ").Append(instrument.Name).Append(' ').Append(counter ? "counter" : "gauge").Append('\n');
                foreach (var (labels, value) in values.OrderBy(v => v.Key, StringComparer.Ordinal))
                {
                    text.Append(instrument.Name).Append(labels).Append(' ').Append(Number(value)).Append('\n');
                }
            }
            return text.ToString();
        }
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!series.TryGetValue(instrument, out var values))
        {
            return;
        }
        string labels = Labels(tags);
        if (instrument.IsObservable)
        {
            values[labels] = value;
        }
        else
        {
            values.AddOrUpdate(labels, value, (_, sum) => sum + value);
        }
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return "";
        }
        var pairs = new List<KeyValuePair<string, object?>>(tags.ToArray());
        pairs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return "{" + string.Join(",", pairs.Select(p => $"{p.Key}=\"{EscapeLabel(Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? "")}\"")) + "}";
    }

    internal static string EscapeLabel(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    internal static string Number(double value) => value switch
    {
        double.NaN => "NaN",
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    public void Dispose() => listener.Dispose();
}
