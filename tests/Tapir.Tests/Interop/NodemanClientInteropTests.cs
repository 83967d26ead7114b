// Wire compatibility with DNS TAPIR's own enrollment client (issue #5): a Python peer built on
// jwcrypto and cryptography speaks nodeman's protocol exactly as dnstapir-cli does (protected
// headers with alg only, isoformat timestamps, general JSON enrollment, flattened renewal) against
// a real tapir core over TLS verified with the core's CA.
using Tapir.Tests.Core;

namespace Tapir.Tests.Interop;

public sealed class NodemanClientInteropTests
{
    [Fact]
    public void DnstapirStyleClientEnrollsAndRenews()
    {
        using var core = new CoreProcess();
        core.Start();
        string credentials = core.AddNode("edge7.example.net");
        Directory.CreateDirectory(core.File("py"));
        var r = Run.Process("/usr/bin/python3", [Path.Combine(Repo.Root, "tests", "interop", "nodeman-client.py"), credentials, Path.Combine(core.StateDir, "ca.crt"), core.File("py")]);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr + core.LogText);
        Assert.Matches(@"enrolled \d+\nrenewed \d+\n", r.Stdout);
        var show = core.Tapir("core", "node", "show", "edge7.example.net");
        Assert.Contains("state: enrolled", show.Stdout);
        Assert.Contains("\"alg\":\"ES256\"", show.Stdout);
        Assert.Equal(2, show.Stdout.Split("certificate ").Length - 1);
    }
}
