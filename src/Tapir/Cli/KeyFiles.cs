// Reading JWK and JWK set files for the CLI: strict parsing with the refusal named, and the
// permission rule for any file that holds private key material (DESIGN §7).
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Cli;

public static class KeyFiles
{
    public static Jwk ReadJwk(string path)
    {
        byte[] bytes = ReadInput(path);
        if (!JwkParser.TryParse(bytes, out var key, out var why))
        {
            throw new TapirException($"{path}: not an acceptable JWK ({why}).");
        }
        if (key!.HasPrivateKey && path != "-")
        {
            PrivateKeyFile.Read(path); // refuses group- or world-accessible private keys
        }
        return key;
    }

    public static JwkSet ReadJwkSet(string path)
    {
        byte[] bytes = ReadInput(path);
        if (JwkSet.TryParse(bytes, out var set, out var why))
        {
            return set!;
        }
        // A single JWK is accepted where a set is expected, as a set of one.
        if (JwkParser.TryParse(bytes, out var key, out _) && key!.Kid is not null)
        {
            return new JwkSet([key]);
        }
        throw new TapirException($"{path}: not an acceptable JWK set ({why}).");
    }

    /// <summary>A file's bytes, or standard input for "-".</summary>
    public static byte[] ReadInput(string path)
    {
        if (path == "-")
        {
            using var stdin = Console.OpenStandardInput();
            using var buffer = new MemoryStream();
            stdin.CopyTo(buffer);
            return buffer.ToArray();
        }
        if (!File.Exists(path))
        {
            throw new TapirException($"{path} does not exist.");
        }
        return File.ReadAllBytes(path);
    }
}
