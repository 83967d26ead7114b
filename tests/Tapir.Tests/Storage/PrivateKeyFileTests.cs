// Private key files are read once, from one open handle (DESIGN §7): the mode that is judged is
// the mode of the file whose bytes are used, a symbolic link is refused, and a file swapped
// under the reader can never get a group- or world-readable key accepted.
using Tapir.Cli;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Tests.Storage;

public sealed class PrivateKeyFileTests
{
    private const UnixFileMode Loose = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    [Fact]
    public void ASymbolicLinkIsRefusedEvenToAPrivateFile()
    {
        using var dir = new TempDir();
        PrivateKeyFile.Write(dir.File("real.key"), "secret"u8);
        File.CreateSymbolicLink(dir.File("link.key"), dir.File("real.key"));
        var e = Assert.Throws<TapirException>(() => PrivateKeyFile.Read(dir.File("link.key")));
        Assert.Equal($"private key file {dir.File("link.key")} is a symbolic link; give the path of the file itself.", e.Message);
        Assert.Equal("secret"u8.ToArray(), PrivateKeyFile.Read(dir.File("real.key")));
    }

    [Fact]
    public void ALooseModeIsRefusedWithTheModeNamed()
    {
        using var dir = new TempDir();
        string path = dir.File("loose.key");
        File.WriteAllText(path, "secret");
        File.SetUnixFileMode(path, Loose);
        var e = Assert.Throws<TapirException>(() => PrivateKeyFile.Read(path));
        Assert.Equal($"private key file {path} is accessible by group or others (mode 0644); run 'chmod 600 {path}'.", e.Message);
    }

    /// <summary>
    /// The path flips between a 0600 file and a 0644 file (atomic renames) while it is read. A
    /// reader that checks the mode by path and then opens the path again can judge one file and
    /// return the other's bytes; reading mode and bytes from one handle never can.
    /// </summary>
    [Fact]
    public void AFileSwappedUnderTheReaderNeverGetsALooseKeyAccepted()
    {
        using var dir = new TempDir();
        string path = dir.File("swapped.key");
        byte[] good = "private-0600"u8.ToArray(), loose = "disclosed-0644"u8.ToArray();
        var (accepted, refused, wrong) = Race(path, good, loose, () => PrivateKeyFile.Read(path), bytes => bytes.AsSpan().SequenceEqual(loose));
        Assert.Equal(0, wrong);
        Assert.True(accepted > 0 && refused > 0, $"{accepted} accepted, {refused} refused: the race was not exercised");
    }

    [Fact]
    public void AJwkSwappedUnderTheReaderNeverGetsALooseKeyAccepted()
    {
        using var dir = new TempDir();
        string path = dir.File("swapped.jwk");
        var good = JwkGenerator.Generate(JwsAlgorithm.ES256, kid: "good");
        var loose = JwkGenerator.Generate(JwsAlgorithm.ES256, kid: "loose");
        byte[] goodJson = System.Text.Encoding.UTF8.GetBytes(good.ToJson(includePrivate: true));
        byte[] looseJson = System.Text.Encoding.UTF8.GetBytes(loose.ToJson(includePrivate: true));
        var (accepted, refused, wrong) = Race(path, goodJson, looseJson, () => KeyFiles.ReadJwk(path), key => key.Kid == "loose");
        Assert.Equal(0, wrong);
        Assert.True(accepted > 0 && refused > 0, $"{accepted} accepted, {refused} refused: the race was not exercised");
    }

    private static (int Accepted, int Refused, int Wrong) Race<T>(string path, byte[] good, byte[] loose, Func<T> read, Func<T, bool> isLoose)
    {
        Swap(path, good, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var swapper = Task.Run(() =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                if (i % 2 == 0)
                {
                    Swap(path, loose, Loose);
                }
                else
                {
                    Swap(path, good, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }
        });
        int accepted = 0, refused = 0, wrong = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (isLoose(read()))
                {
                    wrong++;
                }
                accepted++;
            }
            catch (TapirException)
            {
                refused++;
            }
        }
        swapper.Wait();
        return (accepted, refused, wrong);
    }

    /// <summary>Writes a new file with the given mode and renames it over the path in one step.</summary>
    private static void Swap(string path, byte[] content, UnixFileMode mode)
    {
        string temporary = path + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.SetUnixFileMode(temporary, mode);
        File.Move(temporary, path, overwrite: true);
    }
}
