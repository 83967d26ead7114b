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
