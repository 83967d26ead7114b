// The exposition writer in process: counters sum per label set, label values are escaped, gauges
// show only what they observe now, and the output passes the text-format grammar.
using System.Diagnostics.Metrics;
using Tapir.Metrics;

namespace Tapir.Tests.Metrics;

public sealed class PrometheusTextTests
{
    [Fact]
    public void CountersSumPerLabelSetAndTheOutputFollowsTheGrammar()
    {
        using var exposition = new PrometheusText();
        var before = PrometheusGrammar.Check(exposition.Scrape());
        string odd = "a \"quoted\" \\ reason\nwith a newline";
        TapirMetrics.CountAnswer(TapirMetrics.Renewals, 200, null, "issued");
        TapirMetrics.CountAnswer(TapirMetrics.Renewals, 200, null, "issued");
        TapirMetrics.CountAnswer(TapirMetrics.Renewals, 401, odd, "issued");
        TapirMetrics.CertificateExpiry = () => [("server", 86400.5)];
        var after = PrometheusGrammar.Check(exposition.Scrape());
        Assert.Equal(2, after["tapir_renewals_total{outcome=\"issued\"}"] - before.GetValueOrDefault("tapir_renewals_total{outcome=\"issued\"}"));
        string refused = "tapir_renewals_total{outcome=\"refused\",reason=\"a \\\"quoted\\\" \\\\ reason\\nwith a newline\"}";
        Assert.Equal(1, after[refused] - before.GetValueOrDefault(refused));
        Assert.Equal(86400.5, after["tapir_certificate_expiry_seconds{certificate=\"server\"}"]);
        TapirMetrics.CertificateExpiry = () => [];
        Assert.DoesNotContain(PrometheusGrammar.Check(exposition.Scrape()).Keys, k => k.StartsWith("tapir_certificate_expiry_seconds", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("tapir_x 1\n")] // no HELP, no TYPE
    [InlineData("# HELP tapir_x_total x\n# TYPE tapir_x_total counter\ntapir_x_total{a=\"b\"} 1\ntapir_x_total{a=\"b\"} 2\n")] // repeated label set
    [InlineData("# HELP tapir_x x\n# TYPE tapir_x counter\ntapir_x 1\n")] // counter without _total
    [InlineData("# HELP tapir_x x\n# TYPE tapir_x gauge\ntapir_x{a=\"b\\q\"} 1\n")] // bad escape
    [InlineData("# HELP tapir_x x\n# TYPE tapir_x gauge\ntapir_x one\n")] // not a number
    public void TheGrammarRefusesWhatPromtoolRefuses(string text) =>
        Assert.ThrowsAny<Exception>(() => PrometheusGrammar.Check(text));

    [Fact]
    public void NumbersUseTheFormatsSpellings()
    {
        Assert.Equal(("NaN", "+Inf", "-Inf", "0.1", "12345678901"), (PrometheusText.Number(double.NaN), PrometheusText.Number(double.PositiveInfinity),
            PrometheusText.Number(double.NegativeInfinity), PrometheusText.Number(0.1), PrometheusText.Number(12345678901)));
    }
}
