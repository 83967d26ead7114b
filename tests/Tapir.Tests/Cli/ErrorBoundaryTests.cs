// The command boundary through the real binary (DESIGN §1): whatever goes wrong, a command ends
// with exit 1 (failure) or 2 (usage) and one `tapir: error:` line, never an abort with a .NET
// stack trace. Covers bad option values, overflowing durations, and a core that never answers.
using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Tapir.Tests.Core;

namespace Tapir.Tests.Cli;

public sealed class ErrorBoundaryTests
{
    [Theory]
    [InlineData("20000000d")]
    [InlineData("99999999999999999999d")]
    [InlineData("31d")]
    [InlineData("59s")]
    [InlineData("1x")]
    public void ExpiresOutsideItsBoundsIsAUsageErrorNamingThem(string expires)
    {
        using var dir = new TempDir();
        string state = dir.File("core");
        Assert.Equal(0, Run.Tapir("core", "init", "--state", state).ExitCode);
        var r = Run.Tapir("core", "node", "add", "x.example.net", "--expires", expires, "--state", state);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"tapir: error: --expires: '{expires}' must be a duration between 1m and 30d (as core.enrollment_secret_lifetime).\n", r.Stderr);
        Assert.Equal("", r.Stdout);
        var ok = Run.Tapir("core", "node", "add", "y.example.net", "--expires", "30d", "--state", state);
        Assert.True(ok.ExitCode == 0, ok.Stderr);
    }

    /// <summary>The catch-all at the command boundary, for synchronous and asynchronous actions alike.</summary>
    [Fact]
    public void AnUnexpectedExceptionIsOneInternalErrorLine()
    {
        var root = new RootCommand("test");
        var sync = new Command("sync");
        sync.SetAction((Func<ParseResult, int>)(_ => throw new InvalidOperationException("sync\nboom")));
        var async = new Command("async");
        async.SetAction((Func<ParseResult, CancellationToken, Task<int>>)(async (_, _) =>
        {
            await Task.Yield();
            throw new KeyNotFoundException("async boom");
        }));
        root.Subcommands.Add(sync);
        root.Subcommands.Add(async);
        foreach (var (name, line) in new[] { ("sync", "System.InvalidOperationException: sync boom"), ("async", "System.Collections.Generic.KeyNotFoundException: async boom") })
        {
            using var output = new StringWriter();
            using var error = new StringWriter();
            Assert.Equal(1, Tapir.Cli.CommandLine.Run(root, [name], output, error));
            Assert.Equal($"tapir: error: internal error: {line}\n", error.ToString());
        }
    }

    [Fact]
    public void AnOverflowingDurationInTheConfigurationIsOneErrorLine()
    {
        using var dir = new TempDir();
        var environment = new Dictionary<string, string> { ["TAPIR_CORE__ENROLLMENT_SECRET_LIFETIME"] = "20000000d" };
        var r = Run.Tapir(environment, "core", "node", "list", "--state", dir.File("core"));
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("tapir: error: configuration: environment TAPIR_CORE__ENROLLMENT_SECRET_LIFETIME: '20000000d' is not a duration (longer than 36500d).\n", r.Stderr);
    }

    [Fact]
    public void RenewalAgainstACoreThatNeverAnswersFailsWithOneErrorLine()
    {
        using var core = new CoreProcess();
        core.Start();
        string edge = core.File("edge");
        var enrolled = core.Tapir("edge", "enroll", "--credentials", core.AddNode("edge1.example.net"), "--state", edge);
        Assert.True(enrolled.ExitCode == 0, enrolled.Stderr);
        core.Stop();
        // A listener on the core's address that accepts connections and never says a word.
        using var silent = new TcpListener(IPAddress.Loopback, core.Port);
        silent.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true); // the core's closed connections linger in TIME_WAIT
        for (var deadline = DateTime.UtcNow.AddSeconds(10); ; Thread.Sleep(100))
        {
            try
            {
                silent.Start();
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                // the stopped core may still hold the port for a moment
            }
        }
        var held = new List<Socket>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                held.Add(await silent.AcceptSocketAsync(stop.Token));
            }
        });
        var clock = Stopwatch.StartNew();
        var r = core.Tapir("edge", "renew", "--attempts", "1", "--timeout", "2s", "--state", edge);
        clock.Stop();
        stop.Cancel();
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("tapir: error: the core at https://127.0.0.1:" + core.Port + "/ did not answer within 2s; keeping the current certificate.\n", r.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.NotEmpty(held);
        foreach (var socket in held)
        {
            socket.Dispose();
        }
    }

    /// <summary>Bad inputs to many commands; {dir} is a temporary directory holding the fixtures below.</summary>
    public static TheoryData<string[]> BadInputs => new()
    {
        new[] { "httpsig", "verify", "--jwks", "{dir}/pub.jwk", "{dir}/huge-chunk.http" },
        new[] { "inspect", "--jwks", "{dir}/pub.jwk", "{dir}/huge-chunk.http" },
        new[] { "httpsig", "verify", "--jwks", "{dir}/pub.jwk", "--max-age", "20000000d", "{dir}/huge-chunk.http" },
        new[] { "httpsig", "sign", "--key", "{dir}/key.jwk", "--keyid", "k", "--created", "999999999999999", "{dir}/plain.http" },
        new[] { "httpsig", "sign", "--key", "{dir}/key.jwk", "--keyid", "k", "--components", "x-not-there", "{dir}/plain.http" },
        new[] { "jws", "verify", "--jwks", "{dir}", "{dir}/plain.http" },
        new[] { "jws", "sign", "--key", "{dir}/pub.jwk", "{dir}/plain.http" },
        new[] { "key", "public", "{dir}/missing.jwk" },
        new[] { "core", "node", "list", "--config", "{dir}/overflow.toml", "--state", "{dir}/core" },
        new[] { "core", "node", "add", "x.example.net", "--expires", "20000000d", "--state", "{dir}/core" },
        new[] { "edge", "renew", "--state", "{dir}" },
        new[] { "edge", "enroll", "--credentials", "{dir}/plain.http", "--state", "{dir}/edge" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void NoCommandPrintsAStackTrace(string[] args)
    {
        using var dir = new TempDir();
        Assert.Equal(0, Run.Tapir("key", "generate", "--alg", "EdDSA", "--kid", "k", "--out", dir.File("key.jwk")).ExitCode);
        File.WriteAllText(dir.File("pub.jwk"), Run.Tapir("key", "public", dir.File("key.jwk")).Stdout);
        File.WriteAllText(dir.File("huge-chunk.http"), "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n7fffffff\r\nab\r\n0\r\n\r\n");
        File.WriteAllText(dir.File("plain.http"), "POST /x HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n\r\nbody");
        File.WriteAllText(dir.File("overflow.toml"), "[core]\nenrollment_secret_lifetime = \"20000000d\"\n");
        Assert.Equal(0, Run.Tapir("core", "init", "--state", dir.File("core")).ExitCode);
        var r = Run.Tapir(args.Select(a => a.Replace("{dir}", dir.Path, StringComparison.Ordinal)).ToArray());
        Assert.True(r.ExitCode is 1 or 2, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.StartsWith("tapir: error: ", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
    }
}
