// Private key files: written 0600 through AtomicFile, and refused on read when the group or
// others have any access, as ssh does, because such a key must be treated as disclosed.
using Tapir.Cli;

namespace Tapir.Storage;

public static class PrivateKeyFile
{
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    public static void Write(string path, ReadOnlySpan<byte> content) => AtomicFile.Write(path, content, AtomicFile.PrivateMode);

    public static byte[] Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new TapirException($"private key file {path} does not exist.");
        }
        UnixFileMode mode = File.GetUnixFileMode(path);
        if ((mode & GroupOrOther) != 0)
        {
            throw new TapirException(
                $"private key file {path} is accessible by group or others (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); run 'chmod 600 {path}'.");
        }
        return File.ReadAllBytes(path);
    }
}
