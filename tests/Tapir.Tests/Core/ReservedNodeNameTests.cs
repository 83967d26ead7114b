// DESIGN §2 reserved names, with the real binary: no node may be named after the core (core.name),
// any SAN of the core's server certificate, localhost (and names under it), or anything that parses as an IP address.
// Each refusal is one `tapir: error:` line and exit 1, and creates nothing. A node added before the
// configuration gave the core its name can neither enroll nor renew under it.
namespace Tapir.Tests.Core;

public sealed class ReservedNodeNameTests
{
    [Fact]
    public void NodeAddRefusesTheCoresNames()
    {
        using var dir = new TempDir();
        var environment = new Dictionary<string, string>
        {
            ["TAPIR_CORE__STATE_DIR"] = dir.File("core"),
            ["TAPIR_CORE__NAME"] = "core.example.net",
            ["TAPIR_CORE__SERVER_ADDRESSES"] = "127.0.0.1, 192.0.2.7",
        };
        // The server certificate is made for --name; the configuration may name the core too.
        var init = Run.Tapir(environment, "core", "init", "--name", "api.example.net");
        Assert.True(init.ExitCode == 0, init.Stderr);

        foreach (var (name, why) in new[]
        {
            ("localhost", "it is localhost"),
            ("edge.localhost", "it is localhost"),
            ("core.example.net", "it is the core's name (core.name)"),
            ("api.example.net", "it is a name in the core's server certificate"),
            ("127.0.0.1", "it parses as an IP address"),
            ("192.0.2.7", "it parses as an IP address"),
            ("10.1", "it parses as an IP address"),
            ("0x7f.1", "it parses as an IP address"),
        })
        {
            var r = Run.Tapir(environment, "core", "node", "add", name);
            Assert.True(r.ExitCode == 1, $"{name}: {r.ExitCode} {r.Stdout} {r.Stderr}");
            Assert.Equal($"tapir: error: '{name}' is reserved: {why}; a node may not be named like the core.\n", r.Stderr);
            Assert.Equal("", r.Stdout);
        }
        var list = Run.Tapir(environment, "core", "node", "list");
        Assert.Single(list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // the header only

        var allowed = Run.Tapir(environment, "core", "node", "add", "edge1.example.net", "--out", dir.File("edge1.json"));
        Assert.True(allowed.ExitCode == 0, allowed.Stderr);
    }

    [Fact]
    public void ANameReservedAfterNodeAddCanNeitherEnrollNorRenew()
    {
        using var core = new CoreProcess();
        string credentials = core.AddNode("edge9.example.net");
        string renewing = core.AddNode("edge8.example.net");
        core.Start();
        var enrolled = core.Tapir("edge", "enroll", "--credentials", renewing, "--state", core.File("edge8"));
        Assert.True(enrolled.ExitCode == 0, enrolled.Stderr);
        core.Stop();

        // The operator now names the core like the two nodes (as core.name and as a server address).
        core.Environment["TAPIR_CORE__NAME"] = "edge9.example.net";
        core.Start();
        var enroll = core.Tapir("edge", "enroll", "--credentials", credentials, "--state", core.File("edge9"));
        Assert.Equal(1, enroll.ExitCode);
        Assert.Contains("enrollment refused", enroll.Stderr);
        core.AssertLogged("/edge9.example.net/enroll from 127.0.0.1: 401 enrollment refused (the name is reserved: it is the core's name (core.name))");
        core.Stop();

        core.Environment["TAPIR_CORE__NAME"] = "edge8.example.net";
        core.Start();
        var renew = core.Tapir("edge", "renew", "--state", core.File("edge8"), "--attempts", "1");
        Assert.True(renew.ExitCode == 1, renew.Stderr + core.LogText);
        core.AssertLogged("/edge8.example.net/renew from 127.0.0.1 (edge8.example.net): 401 renewal refused (the name is reserved: it is the core's name (core.name))");
    }
}
