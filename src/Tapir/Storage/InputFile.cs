// Reading the offline tools' inputs, a file or standard input ("-"), with a size limit (STYLE:
// bound sizes first). Reading stops at limit + 1 bytes, so an oversized input is refused without
// ever being held whole in memory. A file's mode comes from the same open handle as its bytes.
namespace Tapir.Storage;

public static class InputFile
{
    /// <summary>JWK and JWK set files, credentials and private key files: far below this.</summary>
    public const int KeyMaxBytes = 1 << 20;

    /// <summary>A captured request: the largest aggregate the core accepts by default, plus its head.</summary>
    public const int RequestMaxBytes = (256 << 20) + (64 << 10);

    public static byte[] Read(string path, int maxBytes) => Read(path, maxBytes, out _);

    /// <summary>The bytes of a file or of standard input, and the file's mode (null for standard input).</summary>
    public static byte[] Read(string path, int maxBytes, out UnixFileMode? mode)
    {
        if (path == "-")
        {
            mode = null;
            using var stdin = Console.OpenStandardInput();
            return ReadAtMost(stdin, maxBytes) ?? throw TooLarge(path, maxBytes);
        }
        if (!File.Exists(path))
        {
            throw new TapirException($"{path} does not exist.");
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        mode = File.GetUnixFileMode(stream.SafeFileHandle);
        return ReadAtMost(stream, maxBytes) ?? throw TooLarge(path, maxBytes);
    }

    /// <summary>All of the stream if it holds at most <paramref name="maxBytes"/>, else null after reading one byte more.</summary>
    public static byte[]? ReadAtMost(Stream stream, int maxBytes)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[64 * 1024];
        int read;
        while ((read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, maxBytes + 1L - buffer.Length))) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxBytes)
            {
                return null;
            }
        }
        return buffer.ToArray();
    }

    private static TapirException TooLarge(string path, int maxBytes) =>
        new($"{path}: larger than {maxBytes} bytes; refused (TooLarge).");
}
