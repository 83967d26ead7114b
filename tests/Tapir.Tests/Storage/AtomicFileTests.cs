// Atomic key writes and the permission rule for private key files (DESIGN §7).
using Tapir.Cli;
using Tapir.Storage;

namespace Tapir.Tests.Storage;

public sealed class AtomicFileTests
{
    [Fact]
    public void PrivateFileIsWrittenWithMode0600AndNoTemporaryLeftBehind()
    {
        using var dir = new TempDir();
        string path = dir.File("key.jwk");
        PrivateKeyFile.Write(path, "secret"u8);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal("secret"u8.ToArray(), PrivateKeyFile.Read(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void ReplacingKeepsModeAndContentWhole()
    {
        using var dir = new TempDir();
        string path = dir.File("tls.crt");
        AtomicFile.WriteText(path, "old", AtomicFile.PublicMode);
        AtomicFile.WriteText(path, "new", AtomicFile.PublicMode);
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(AtomicFile.PublicMode, File.GetUnixFileMode(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void AFailedWriteLeavesTheOldFileAndNoTemporary()
    {
        using var dir = new TempDir();
        string target = dir.File("target");
        AtomicFile.WriteText(target, "old", AtomicFile.PrivateMode);
        Directory.CreateDirectory(dir.File("sub"));
        // Renaming a file over a directory fails after the temporary was written.
        Assert.ThrowsAny<IOException>(() => AtomicFile.WriteText(dir.File("sub"), "x", AtomicFile.PrivateMode));
        Assert.Equal("old", File.ReadAllText(target));
        Assert.Equal([target], Directory.GetFiles(dir.Path));
    }

    [Theory]
    [InlineData(UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.OtherRead)]
    [InlineData(UnixFileMode.GroupWrite)]
    [InlineData(UnixFileMode.OtherExecute)]
    public void PrivateKeyReadableByOthersIsRefused(UnixFileMode extra)
    {
        using var dir = new TempDir();
        string path = dir.File("tls.key");
        PrivateKeyFile.Write(path, "secret"u8);
        File.SetUnixFileMode(path, AtomicFile.PrivateMode | extra);
        var e = Assert.Throws<TapirException>(() => PrivateKeyFile.Read(path));
        Assert.Contains("accessible by group or others", e.Message);
        Assert.Contains("chmod 600", e.Message);
    }

    [Fact]
    public void MissingPrivateKeyIsAClearError()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<TapirException>(() => PrivateKeyFile.Read(dir.File("absent.key")));
        Assert.Contains("does not exist", e.Message);
    }
}
