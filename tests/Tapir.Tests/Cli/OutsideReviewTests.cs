// What an outside black-box review of the issue 9 binary found, each pinned with the real binary:
// the core database (pending enrollment secrets) is owner-only and refused when loose, as is the
// state directory; `node add` commits the node only once its credentials are written; a closed
// stdout and every parse error end in one `tapir: error:` line.
namespace Tapir.Tests.Cli;

public sealed class OutsideReviewTests
{
    [Fact]
    public void DatabaseAndStateDirectoryAreOwnerOnlyOrRefused()
    {
        using var dir = new TempDir();
        var environment = new Dictionary<string, string> { ["TAPIR_CORE__STATE_DIR"] = dir.File("core") };
        Assert.Equal(0, Run.Tapir(environment, "core", "init").ExitCode);
        string db = dir.File("core/tapir.db");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(db));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir.File("core/aggregates")));
        Assert.Equal(0, Run.Tapir(environment, "core", "node", "add", "edge1.example.net", "--out", dir.File("edge1.json")).ExitCode);

        File.SetUnixFileMode(db, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var loose = Run.Tapir(environment, "core", "node", "list");
        Assert.Equal(1, loose.ExitCode);
        Assert.Equal($"tapir: error: database {db} holds enrollment secrets and is accessible by group or others (mode 0644); run 'chmod 600 {db}'.\n", loose.Stderr);
        File.SetUnixFileMode(db, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        File.SetUnixFileMode(dir.File("core"), (UnixFileMode)0b111_101_101);
        var open = Run.Tapir(environment, "core", "node", "list");
        Assert.Equal(1, open.ExitCode);
        Assert.Equal($"tapir: error: state directory {dir.File("core")} is accessible by group or others (mode 0755); run 'chmod 700 {dir.File("core")}'.\n", open.Stderr);
    }

    [Fact]
    public void NodeAddCreatesNothingWhenTheCredentialsCannotBeWritten()
    {
        using var dir = new TempDir();
        var environment = new Dictionary<string, string> { ["TAPIR_CORE__STATE_DIR"] = dir.File("core") };
        Assert.Equal(0, Run.Tapir(environment, "core", "init").ExitCode);

        var noDir = Run.Tapir(environment, "core", "node", "add", "a.example.net", "--out", dir.File("missing/a.json"));
        Assert.Equal(1, noDir.ExitCode);
        Assert.StartsWith($"tapir: error: cannot write the credentials to {dir.File("missing/a.json")} (", noDir.Stderr);
        Assert.EndsWith("); node a.example.net was not created.\n", noDir.Stderr);
        Assert.Single(noDir.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var full = Run.Process("sh", ["-c", "exec \"$0\" core node add b.example.net >/dev/full", Repo.Binary], environment);
        Assert.Equal(1, full.ExitCode);
        Assert.EndsWith("); node b.example.net was not created.\n", full.Stderr);

        var list = Run.Tapir(environment, "core", "node", "list");
        Assert.DoesNotContain("example.net", list.Stdout);
        // The names were never taken: they can be added now.
        Assert.Equal(0, Run.Tapir(environment, "core", "node", "add", "a.example.net", "--out", dir.File("a.json")).ExitCode);
        Assert.Equal(0, Run.Tapir(environment, "core", "node", "add", "b.example.net").ExitCode);
    }

    [Fact]
    public void ClosedStandardOutputIsOneErrorLine()
    {
        var r = Run.Process("sh", ["-c", "exec \"$0\" version >&-", Repo.Binary]);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("tapir: error: standard output is closed.\n", r.Stderr);
    }

    [Theory]
    [InlineData("")]
    [InlineData("core")]
    [InlineData("--bogus")]
    [InlineData("core node add")]
    [InlineData("core node add x.example.net --expires")]
    [InlineData("edge renew --attempts 0")]
    [InlineData("edge renew --attempts 99999999999")]
    public void EveryParseErrorIsOneLineAndExitTwo(string args)
    {
        var r = Run.Tapir(args.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(2, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("tapir: error: ", lines[0]);
        Assert.EndsWith("(see 'tapir --help').", lines[0]);
    }
}
