// `make install` (issue 13): the binary, the configuration, the docs and two systemd units with
// their paths filled in, checked by systemd's own `systemd-analyze verify` (which prints a line for
// every unknown key or bad value, so silence is asserted, not only the status) and scored by
// `systemd-analyze security --offline`; and the units' own command lines (not systemd itself) run
// the installed binary as a core and an edge agent that start and stop cleanly on SIGTERM.
using System.Globalization;
using System.Text.RegularExpressions;

namespace Tapir.Tests.Binary;

public sealed class InstallTests
{
    [Fact]
    public void InstallWritesVerifiedHardenedUnits()
    {
        using var dir = new TempDir();
        string prefix = dir.File("usr");
        // -o bin/tapir: install what `make` built; never rebuild from inside a test.
        var make = Run.Process("make", ["-s", "-C", Repo.Root, "-o", "bin/tapir", "install", $"PREFIX={prefix}"]);
        Assert.True(make.ExitCode == 0, make.Stdout + make.Stderr);
        Assert.Equal(File.ReadAllBytes(Repo.Binary), File.ReadAllBytes(Path.Combine(prefix, "bin", "tapir")));
        Assert.True(File.Exists(Path.Combine(prefix, "etc", "tapir", "tapir.toml")));
        Assert.True(File.Exists(Path.Combine(prefix, "lib", "sysusers.d", "tapir.conf")));
        foreach (var (unit, command) in new[] { ("tapir-core", "core serve"), ("tapir-edge", "edge run") })
        {
            string path = Path.Combine(prefix, "lib", "systemd", "system", unit + ".service");
            string text = File.ReadAllText(path);
            Assert.DoesNotMatch("@[A-Z]+@", text);
            Assert.Contains($"ExecStart={prefix}/bin/tapir {command} --config {prefix}/etc/tapir/tapir.toml\n", text);
            foreach (string setting in new[] { "Type=notify", "User=tapir", "StateDirectory=tapir", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n", "Restart=on-failure" })
            {
                Assert.Contains(setting, text);
            }
            var verify = Run.Process("systemd-analyze", ["verify", path]);
            Assert.True(verify.ExitCode == 0 && verify.Stdout.Length == 0 && verify.Stderr.Length == 0, $"systemd-analyze verify {unit}: {verify.ExitCode}\n{verify.Stdout}{verify.Stderr}");
            var security = Run.Process("systemd-analyze", ["security", "--offline=true", path]);
            var exposure = Regex.Match(security.Stdout + security.Stderr, @"Overall exposure level for [\w.-]+: ([0-9.]+)");
            Assert.True(exposure.Success, security.Stdout + security.Stderr);
            double level = double.Parse(exposure.Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(level <= 2.5, $"{unit}: systemd exposure {level} (above 2.5)");
        }
        // The command each unit starts exists in the installed binary.
        Assert.Equal(0, Run.Process(Path.Combine(prefix, "bin", "tapir"), ["core", "serve", "--help"]).ExitCode);
    }

    [Fact]
    public void TheUnitsCommandLinesRunAndStopOnSigterm()
    {
        using var dir = new TempDir();
        string prefix = dir.File("usr");
        var make = Run.Process("make", ["-s", "-C", Repo.Root, "-o", "bin/tapir", "install", $"PREFIX={prefix}"]);
        Assert.True(make.ExitCode == 0, make.Stdout + make.Stderr);
        string Exec(string unit) => File.ReadAllLines(Path.Combine(prefix, "lib", "systemd", "system", unit)).Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..];
        string core = Exec("tapir-core.service"), edge = Exec("tapir-edge.service");
        string config = core.Split(' ')[^1];
        int api = Tapir.Tests.Core.CoreProcess.FreePort(), mqtt = Tapir.Tests.Core.CoreProcess.FreePort();
        File.WriteAllText(config, $"""
            [core]
            state_dir = "{dir.File("core")}"
            listen = "127.0.0.1:{api}"
            public_url = "https://127.0.0.1:{api}/"
            mqtt_listen = "127.0.0.1:{mqtt}"
            mqtt_url = "mqtts://127.0.0.1:{mqtt}"
            metrics_listen = ""

            [edge]
            state_dir = "{dir.File("edge")}"
            """);
        string tapir = Path.Combine(prefix, "bin", "tapir");
        Assert.Equal(0, Run.Process(tapir, ["core", "init", "--config", config]).ExitCode);
        var coreLog = new StringWriter();
        var coreProcess = Service.Start("exec \"$0\" \"$@\" </dev/null", core.Split(' '), new Dictionary<string, string>(), coreLog);
        try
        {
            Service.WaitForListener(coreProcess, api, "tapir-core's command", () => coreLog.ToString(), 20);
            Assert.Equal(0, Run.Process(tapir, ["core", "node", "add", "edge1.example.net", "--config", config, "--out", dir.File("edge1.json")]).ExitCode);
            var enrolled = Run.Process(tapir, ["edge", "enroll", "--credentials", dir.File("edge1.json"), "--config", config]);
            Assert.True(enrolled.ExitCode == 0, enrolled.Stderr);
            var edgeLog = new StringWriter();
            var edgeProcess = Service.Start("exec \"$0\" \"$@\" </dev/null", edge.Split(' '), new Dictionary<string, string>(), edgeLog);
            for (int i = 0; i < 200 && !Locked(edgeLog).Contains("subscribed to", StringComparison.Ordinal); i++)
            {
                Thread.Sleep(50);
            }
            Assert.Contains("subscribed to", Locked(edgeLog));
            StopWithSigterm(edgeProcess, "tapir-edge's command", edgeLog);
        }
        finally
        {
            StopWithSigterm(coreProcess, "tapir-core's command", coreLog);
        }
        Assert.EndsWith("msg=\"stopped\"", Locked(coreLog).TrimEnd());
    }

    private static string Locked(StringWriter log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }

    private static void StopWithSigterm(System.Diagnostics.Process process, string name, StringWriter log)
    {
        if (process.HasExited)
        {
            Assert.Fail($"{name} had exited: {Locked(log)}");
        }
        Assert.Equal(0, Run.Process("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]).ExitCode);
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
            Assert.Fail($"{name} still running 10 s after SIGTERM (killed): {Locked(log)}");
        }
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{name} exited {process.ExitCode}: {Locked(log)}");
    }
}
