// Log lines: key=value (logfmt) by default with the message quoted and escaped so one event is one
// line whatever it holds; JSON with the same members under log.format = "json" or --log-format json.
using System.Text.Json;
using Tapir.Logging;

namespace Tapir.Tests.Logging;

public sealed class LogFormatTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 2, 3, 4, 5, 678, TimeSpan.Zero);

    [Fact]
    public void TextIsKeyValueWithTheMessageQuoted()
    {
        Assert.Equal("time=2026-12-02T03:04:05.678Z level=warning msg=\"keyid \\\"x\\\" from a\\\\b\\nnext\\u0001\"",
            Log.Line(At, LogLevel.Warning, "keyid \"x\" from a\\b\nnext\u0001", LogFormat.Text));
    }

    [Fact]
    public void JsonIsOneObjectWithTheSameMembers()
    {
        string line = Log.Line(At, LogLevel.Info, "a \"b\"\nc", LogFormat.Json);
        Assert.DoesNotContain('\n', line);
        var doc = JsonDocument.Parse(line).RootElement;
        Assert.Equal(("2026-12-02T03:04:05.678Z", "info", "a \"b\"\nc"), (doc.GetProperty("time").GetString(), doc.GetProperty("level").GetString(), doc.GetProperty("msg").GetString()));
    }

    [Fact]
    public void TheCoreLogsOneJsonObjectPerLineWhenAsked()
    {
        using var core = new Tapir.Tests.Core.CoreProcess();
        core.Environment["TAPIR_LOG__FORMAT"] = "json";
        core.Start();
        string credentials = core.AddNode("edge1.example.net");
        Assert.Equal(0, core.Tapir("edge", "enroll", "--credentials", credentials, "--state", core.File("edge")).ExitCode);
        core.Stop();
        var lines = core.LogText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(lines, l => Assert.Equal(["time", "level", "msg"], l.EnumerateObject().Select(p => p.Name)));
        Assert.Contains(lines, l => l.GetProperty("msg").GetString()!.Contains("edge1.example.net/enroll", StringComparison.Ordinal));
        Assert.Equal("stopped", lines[^1].GetProperty("msg").GetString());
    }

    [Fact]
    public void TheOptionOverridesTheConfigurationAndIsChecked()
    {
        using var core = new Tapir.Tests.Core.CoreProcess();
        core.Environment["TAPIR_LOG__FORMAT"] = "json";
        Assert.Equal(0, core.Tapir("core", "node", "list", "--log-format", "text").ExitCode);
        var bad = core.Tapir("core", "node", "list", "--log-format", "xml");
        Assert.Equal(2, bad.ExitCode);
        core.Environment["TAPIR_LOG__FORMAT"] = "xml";
        var badConfig = core.Tapir("core", "node", "list");
        Assert.Equal(1, badConfig.ExitCode);
        Assert.Contains("TAPIR_LOG__FORMAT: must be one of text, json", badConfig.Stderr);
    }
}
