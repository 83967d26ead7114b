// Shared helpers for host tests: the repository root, the real AOT binary, temp directories that
// delete themselves, and running a process to completion with a time limit.
using System.Diagnostics;

namespace Tapir.Tests;

internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Binary => Path.Combine(Root, "bin", "tapir");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "tapir.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("tapir.sln not found above " + AppContext.BaseDirectory);
    }
}

internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = Directory.CreateTempSubdirectory("tapir-test-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);

internal static class Run
{
    /// <summary>Runs the real bin/tapir (built by `make`) and waits for it, at most 60 s.</summary>
    public static ProcessResult Tapir(params string[] args) => Tapir(null, args);

    public static ProcessResult Tapir(IDictionary<string, string>? environment, params string[] args)
    {
        Assert.True(System.IO.File.Exists(Repo.Binary), $"{Repo.Binary} is missing: run `make` first (make test does).");
        return Process(Repo.Binary, args, environment);
    }

    public static ProcessResult Process(string file, IEnumerable<string> args, IDictionary<string, string>? environment = null, string? stdin = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[k] = v;
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 60 s");
        }
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>Long-running programs started as systemd starts services, for the host tests.</summary>
internal static class Service
{
    /// <summary>
    /// Starts `sh -c script args…` in its own session (setsid, no controlling terminal); the script
    /// execs the program with stdin on /dev/null, so the PID is the program's own. Its stdout and
    /// stderr lines are appended to <paramref name="log"/> under the writer's lock.
    /// </summary>
    public static Process Start(string script, IEnumerable<string> args, IDictionary<string, string> environment, StringWriter log)
    {
        var start = new ProcessStartInfo("setsid") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in new[] { "sh", "-c", script }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (k, v) in environment)
        {
            start.Environment[k] = v;
        }
        var process = System.Diagnostics.Process.Start(start)!;
        process.ErrorDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        process.OutputDataReceived += (_, e) => { lock (log) { log.WriteLine(e.Data); } };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    /// <summary>Waits until something accepts connections on 127.0.0.1:port; fails if the process exits first or the time runs out.</summary>
    public static void WaitForListener(Process process, int port, string name, Func<string> log, int seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(process.HasExited, $"{name} exited: {log()}");
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                client.Connect(System.Net.IPAddress.Loopback, port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                Thread.Sleep(50);
            }
        }
        throw new TimeoutException($"{name} did not listen on {port}: {log()}");
    }
}
