// `make install` (issue 13): the binary, the configuration, the docs and two systemd units with
// their paths filled in, checked by systemd's own `systemd-analyze verify` (which prints a line for
// every unknown key or bad value, so silence is asserted, not only the status) and scored by
// `systemd-analyze security --offline`.
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
}
