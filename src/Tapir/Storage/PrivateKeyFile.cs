// Private key files: written 0600 through AtomicFile, and read once from one open handle: opened
// without following a symbolic link, the mode taken from that handle (fstat), the bytes read from
// it. Refused when the group or others have any access, as ssh does, because such a key must be
// treated as disclosed; refused too when the path is a symbolic link or the file is over 1 MiB.

namespace Tapir.Storage;

public static class PrivateKeyFile
{
    internal const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    public static void Write(string path, ReadOnlySpan<byte> content) => AtomicFile.Write(path, content, AtomicFile.PrivateMode);

    public static byte[] Read(string path)
    {
        using var handle = Posix.OpenNoFollow(path, out int errno);
        if (handle is null)
        {
            throw errno switch
            {
                Posix.ENoEnt => new TapirException($"private key file {path} does not exist."),
                Posix.ELoop => new TapirException($"private key file {path} is a symbolic link; give the path of the file itself."),
                _ => new IOException($"cannot open private key file {path} (errno {errno})."),
            };
        }
        RefuseLooseMode(path, File.GetUnixFileMode(handle));
        using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        return InputFile.ReadAtMost(stream, InputFile.KeyMaxBytes)
            ?? throw new TapirException($"private key file {path} is larger than {InputFile.KeyMaxBytes} bytes.");
    }

    /// <summary>The permission rule, for a mode read from the handle the key's bytes came from.</summary>
    public static void RefuseLooseMode(string path, UnixFileMode mode)
    {
        if ((mode & GroupOrOther) != 0)
        {
            throw new TapirException(
                $"private key file {path} is accessible by group or others (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); run 'chmod 600 {path}'.");
        }
    }
}
