// The core's MQTT client id in external mode: `<core.name>-core-<32 hex digits>`, the hex part 128
// random bits made once and kept in the state directory (mqtt-client-id, 0600, read like a private
// key: no symbolic link, no group or other access). Mosquitto does not bind a client id to the
// certificate that uses it, so an edge that could name the core's client id could close the core's
// connection and end its persistent session (losing what was queued for it); a secret id cannot be
// named. It is stable so the persistent session survives restarts, and it is never logged in full.
using System.Security.Cryptography;
using System.Text;
using Tapir.Storage;

namespace Tapir.Core.Mqtt;

public static class CoreClientId
{
    public const string FileName = "mqtt-client-id";
    private const int SecretHexDigits = 32;

    public static string LoadOrCreate(CoreState state, string coreName)
    {
        string path = state.PathOf(FileName);
        if (!File.Exists(path))
        {
            PrivateKeyFile.Write(path, Encoding.ASCII.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SecretHexDigits / 2)) + "\n"));
        }
        string secret = Encoding.ASCII.GetString(PrivateKeyFile.Read(path)).TrimEnd('\n');
        if (secret.Length != SecretHexDigits || !secret.All(char.IsAsciiHexDigitLower))
        {
            throw new TapirException($"{path} does not hold {SecretHexDigits} lower-case hex digits; remove it to have a new one made (the core's session at the broker then starts anew).");
        }
        return $"{coreName}-core-{secret}";
    }

    /// <summary>The id for logs: everything up to the secret, then its first 4 digits.</summary>
    public static string Shown(string clientId) => clientId[..(clientId.Length - SecretHexDigits + 4)] + "…";
}
