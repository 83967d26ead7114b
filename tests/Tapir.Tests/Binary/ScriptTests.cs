// The README's own commands, run as a new user runs them (issue 8): `make demo` (tests/demo.sh)
// and the enrollment benchmark (bench/enroll.sh, shortened) must return with status 0 under a time
// limit, leave no process they started running, and leave nothing in their temp directory.
using System.Globalization;

namespace Tapir.Tests.Binary;

public sealed class ScriptTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void DemoRunsToTheEndAndLeavesNothingBehind()
    {
        string transcript = RunScript("tests/demo.sh", new Dictionary<string, string>());
        Assert.Matches(@"\n[0-9]+ steps, 0 failed\. Details: .*/build/demo\.log\n$", transcript);
        Assert.DoesNotContain("\u2717", transcript); // ✗
        // The demo compares the counters with what it did itself; these are the figures of its steps.
        Assert.Matches(@"\u2713 core /metrics: 4 enrollments, 4 aggregates accepted, MQTT messages [0-9]+ verified, refused 1 BadSignature \+ 1 NameMismatch\n", transcript);
        Assert.Matches(@"\u2713 edge1 /metrics \(edge\.metrics_listen\): messages [1-9][0-9]* verified, 0 refused; configurations written [1-9][0-9]*; status sent [1-9][0-9]*; connected; certificate 30 d left\n", transcript);
        foreach (string step in new[] { "enrolled with an Ed448 data key", "201 Created /api/v1/aggregates/", "renewal refused: tapir: error: renewal refused: 401",
            "edge3: verified and wrote config/demo.json (same bytes", "edge publish → PUBACK 0", "one payload byte changed on edge1's topic: PUBACK 0x87; core log: events/up/edge1.example.net/altered': BadSignature",
            "signed by edge2 on edge1's topic: PUBACK 0x87", "the altered copy fails offline too: tapir: error: JWS refused: BadSignature",
            "edge3: MQTT connection refused at the TLS handshake", "payload tampered", "three edge agents stopped by SIGTERM: exit 0 each",
            "core serve stopped by SIGTERM: exit 0 (stopped)", "no secret in any log" })
        {
            Assert.Contains(step, transcript);
        }
    }

    [Fact]
    public void EnrollmentBenchmarkRunsToTheEndAndLeavesNothingBehind()
    {
        string transcript = RunScript("bench/enroll.sh", new Dictionary<string, string> { ["ENROLL_COUNT"] = "3" });
        Assert.Matches(@"enrollment \(tapir edge enroll, end to end\): median [0-9.]+ ms, p90 [0-9.]+ ms, min [0-9.]+ ms over 3", transcript);
    }

    private string RunScript(string script, Dictionary<string, string> environment)
    {
        using var tmp = new TempDir();
        string pids = Path.Combine(tmp.Path, "pids");
        string scratch = Path.Combine(tmp.Path, "tmp");
        Directory.CreateDirectory(scratch);
        environment["TMPDIR"] = scratch;
        environment["TAPIR_PIDS_FILE"] = pids;
        var r = Run.Process("timeout", ["-k", "5", "300", Path.Combine(Repo.Root, script)], environment);
        string transcript = r.Stdout + r.Stderr;
        output.WriteLine(transcript);
        Assert.True(r.ExitCode == 0, $"{script} exited with {r.ExitCode} (124: timed out after 300 s)");
        var started = File.ReadAllLines(pids).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(started);
        foreach (int pid in started)
        {
            Assert.False(Directory.Exists($"/proc/{pid}") && !IsAnotherProgram(pid), $"{script} left process {pid} running");
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch));
        return transcript;
    }

    // A PID may be reused by an unrelated process once ours has exited: only a tapir counts.
    private static bool IsAnotherProgram(int pid)
    {
        try
        {
            return !File.ReadAllText($"/proc/{pid}/comm").Trim().Equals("tapir", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return true;
        }
    }
}
