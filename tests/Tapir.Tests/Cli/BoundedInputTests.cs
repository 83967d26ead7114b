// The offline tools stop reading their input at its size limit (DESIGN §8: bound sizes first):
// an oversized standard input is refused after at most limit + 1 bytes were read, with one
// error line, while the writer still has most of its data; it is never buffered whole.
using System.Diagnostics;

namespace Tapir.Tests.Cli;

public sealed class BoundedInputTests
{
    private const long Offered = 300L * 1024 * 1024;

    [Fact]
    public void JwsVerifyRefusesAnOversizedStdinWithoutReadingItAll()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Run.Tapir("key", "generate", "--alg", "ES256", "--kid", "k", "--out", dir.File("key.jwk")).ExitCode);
        File.WriteAllText(dir.File("pub.jwk"), Run.Tapir("key", "public", dir.File("key.jwk")).Stdout);
        var (exit, stderr, written, peakKiB) = Pipe(["jws", "verify", "--jwks", dir.File("pub.jwk"), "-"]);
        Assert.Equal(1, exit);
        Assert.Equal("tapir: error: -: larger than 1048577 bytes; refused (TooLarge).\n", stderr);
        Assert.True(written < 64L * 1024 * 1024, $"the writer got {written} bytes into tapir");
        Assert.True(peakKiB < 100 * 1024, $"peak RSS {peakKiB} KiB");
    }

    [Fact]
    public void HttpSigVerifyRefusesAnOversizedStdin()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Run.Tapir("key", "generate", "--alg", "ES256", "--kid", "k", "--out", dir.File("key.jwk")).ExitCode);
        File.WriteAllText(dir.File("pub.jwk"), Run.Tapir("key", "public", dir.File("key.jwk")).Stdout);
        var (exit, stderr, written, _) = Pipe(["httpsig", "verify", "--jwks", dir.File("pub.jwk"), "-"], Offered);
        Assert.Equal(1, exit);
        Assert.Equal($"tapir: error: -: larger than {256 * 1024 * 1024 + 64 * 1024} bytes; refused (TooLarge).\n", stderr);
        Assert.True(written < Offered, $"the writer got {written} bytes into tapir");
    }

    /// <summary>Runs tapir with `offered` bytes of 'A' on stdin; returns how many it took before it stopped reading, and its peak RSS.</summary>
    private static (int Exit, string Stderr, long Written, long PeakKiB) Pipe(string[] args, long offered = Offered)
    {
        var start = new ProcessStartInfo(Repo.Binary) { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        long peak = 0;
        var watcher = Task.Run(() =>
        {
            while (!process.HasExited)
            {
                peak = Math.Max(peak, PeakRssKiB(process.Id));
                Thread.Sleep(5);
            }
        });
        byte[] chunk = new byte[1024 * 1024];
        Array.Fill(chunk, (byte)'A');
        long written = 0;
        try
        {
            var input = process.StandardInput.BaseStream;
            while (written < offered)
            {
                input.Write(chunk);
                written += chunk.Length;
            }
            input.Close();
        }
        catch (IOException)
        {
            // Broken pipe: tapir stopped reading and exited.
        }
        Assert.True(process.WaitForExit(60_000), "tapir did not exit");
        watcher.Wait();
        return (process.ExitCode, stderr.Result, written, peak);
    }

    private static long PeakRssKiB(int pid)
    {
        try
        {
            string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
