// The single-binary property: bin/tapir needs no shared object beyond the C runtime's own, and
// nothing but the binary is in bin/. Read from the ELF itself with readelf (NEEDED entries), and
// cross-checked with ldd.
namespace Tapir.Tests.Binary;

public sealed class StaticLinkTests
{
    private static readonly string[] CRuntime = ["libc.so", "libm.so", "libdl.so", "libpthread.so", "librt.so", "ld-linux"];

    private static bool IsCRuntime(string name) => CRuntime.Any(name.StartsWith);

    [Fact]
    public void ElfNeedsOnlyTheCRuntime()
    {
        Assert.True(File.Exists(Repo.Binary), "bin/tapir missing: run make");
        var r = Run.Process("readelf", ["-d", Repo.Binary]);
        Assert.Equal(0, r.ExitCode);
        var needed = r.Stdout.Split('\n').Where(l => l.Contains("(NEEDED)")).Select(l => l[(l.IndexOf('[') + 1)..l.IndexOf(']')]).ToList();
        Assert.NotEmpty(needed);
        Assert.All(needed, n => Assert.True(IsCRuntime(n), $"bin/tapir needs {n}"));
    }

    [Fact]
    public void LddShowsNoOtherSharedObject()
    {
        var r = Run.Process("ldd", [Repo.Binary]);
        Assert.Equal(0, r.ExitCode);
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string name = line.Split(' ')[0];
            Assert.True(name.StartsWith("linux-vdso", StringComparison.Ordinal) || IsCRuntime(Path.GetFileName(name)), $"ldd: {line}");
        }
        Assert.DoesNotContain("sqlite", r.Stdout);
    }

    [Fact]
    public void BinFolderHoldsOnlyTheBinary()
    {
        var files = Directory.GetFiles(Path.Combine(Repo.Root, "bin")).Select(Path.GetFileName).ToList();
        Assert.Equal(["tapir"], files);
        Assert.DoesNotContain(files, f => f!.EndsWith(".so", StringComparison.Ordinal));
    }
}
