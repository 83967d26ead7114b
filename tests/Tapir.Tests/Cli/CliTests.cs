// The real AOT binary's command line: help on every level, exit codes 0/1/2, one
// `tapir: error:` line on stderr, unbuilt commands failing rather than pretending.
namespace Tapir.Tests.Cli;

public sealed class CliTests
{
    [Fact]
    public void VersionPrintsVersionCommitAndAlgorithms()
    {
        var r = Run.Tapir("version");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("tapir ", r.Stdout);
        Assert.Matches(@"commit: [0-9a-f]{7,40}", r.Stdout);
        Assert.Contains("EdDSA (Ed25519, Ed448)", r.Stdout);
        Assert.Contains("native AOT: True", r.Stdout);
        Assert.Matches(@"sqlite: 3\.\d+\.\d+ \(statically linked\)", r.Stdout);
        Assert.Matches(@"openssl: 3\.\d+\.\d+", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("core", "--help")]
    [InlineData("core", "node", "--help")]
    [InlineData("core", "node", "add", "--help")]
    [InlineData("core", "aggregates", "--help")]
    [InlineData("core", "key", "--help")]
    [InlineData("edge", "--help")]
    [InlineData("edge", "enroll", "--help")]
    [InlineData("key", "--help")]
    [InlineData("jws", "--help")]
    [InlineData("httpsig", "--help")]
    [InlineData("inspect", "--help")]
    [InlineData("version", "--help")]
    public void HelpOnEveryLevel(params string[] args)
    {
        var r = Run.Tapir(args);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage:", r.Stdout);
    }

    [Fact]
    public void RootHelpListsEveryCommandGroup()
    {
        var r = Run.Tapir("--help");
        foreach (var name in new[] { "core", "edge", "key", "jws", "httpsig", "inspect", "version" })
        {
            Assert.Contains(name, r.Stdout);
        }
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("core")]
    [InlineData("core", "node")]
    [InlineData("version", "--nope")]
    [InlineData("core", "mosquitto-config")]
    public void UsageErrorsExitTwo(params string[] args)
    {
        var r = Run.Tapir(args);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("tapir: error: ", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void CoreCommandsWithoutAStateSayWhatToDo()
    {
        using var dir = new TempDir();
        foreach (var args in new[] { new[] { "core", "serve", "--state", dir.File("none") }, ["core", "node", "list", "--state", dir.File("none")] })
        {
            var r = Run.Tapir(args);
            Assert.Equal(1, r.ExitCode);
            Assert.Equal($"tapir: error: {dir.File("none")} holds no core state; run 'tapir core init' first.\n", r.Stderr);
        }
    }
}
