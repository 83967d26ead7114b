// Reading JWK and JWK set files for the CLI: bounded, strict parsing with the refusal named, and
// the permission rule for any file that holds private key material (DESIGN §7), applied to the
// mode of the open handle the key was read from. A symbolic link here is followed (to that file).
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Cli;

public static class KeyFiles
{
    public static Jwk ReadJwk(string path)
    {
        // One read: the mode judged is the mode of the file these bytes came from.
        byte[] bytes = InputFile.Read(path, InputFile.KeyMaxBytes, out var mode);
        if (!JwkParser.TryParse(bytes, out var key, out var why))
        {
            throw new TapirException($"{path}: not an acceptable JWK ({why}).");
        }
        if (key.HasPrivateKey && mode is UnixFileMode fileMode)
        {
            PrivateKeyFile.RefuseLooseMode(path, fileMode);
        }
        return key;
    }

    public static JwkSet ReadJwkSet(string path)
    {
        byte[] bytes = InputFile.Read(path, InputFile.KeyMaxBytes);
        if (JwkSet.TryParse(bytes, out var set, out var why))
        {
            return set;
        }
        // A single JWK is accepted where a set is expected, as a set of one.
        if (JwkParser.TryParse(bytes, out var key, out _) && key.Kid is not null)
        {
            return new JwkSet([key]);
        }
        throw new TapirException($"{path}: not an acceptable JWK set ({why}).");
    }
}
