// `tapir version`: version, commit, and what this build supports, read from the running process
// (the SQLite and OpenSSL versions are asked of the linked libraries, not hard-coded).
using System.CommandLine;
using System.Reflection;
using System.Security.Cryptography;
using Tapir.Storage;

namespace Tapir.Cli;

public static class VersionCommand
{
    public static Command Build(TextWriter output)
    {
        var command = new Command("version", "Print version, commit and supported algorithms.");
        command.SetAction(_ =>
        {
            foreach (var line in Lines())
            {
                output.WriteLine(line);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    public static IEnumerable<string> Lines()
    {
        string informational = typeof(VersionCommand).Assembly
            .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = informational.IndexOf('+');
        string version = plus < 0 ? informational : informational[..plus];
        string commit = plus < 0 ? "unknown" : informational[(plus + 1)..];
        yield return $"tapir {version}";
        yield return $"commit: {commit}";
        yield return $"runtime: .NET {Environment.Version}, native AOT: {!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported}";
        yield return $"sqlite: {Database.SqliteVersion()} (statically linked)";
        yield return $"openssl: {OpenSslVersion()}";
        yield return "jws algorithms: EdDSA (Ed25519, Ed448), ES256, ES384, ES512, PS256, PS384, PS512, RS256, RS384, RS512, HS256, HS384, HS512";
        yield return "http signature algorithms: ed25519, ecdsa-p256-sha256, ecdsa-p384-sha384, rsa-pss-sha512, rsa-v1_5-sha256, hmac-sha256, JWS algorithms by key (RFC 9421 §3.3.7)";
        yield return "pki: ECDSA P-256 CA and leaves (P-384 leaves by configuration)";
    }

    private static string OpenSslVersion()
    {
        // OPENSSL_VERSION_NUMBER layout for 3.x: 0xMNN00PP0.
        long v = SafeEvpPKeyHandle.OpenSslVersion;
        return $"{(v >> 28) & 0xF}.{(v >> 20) & 0xFF}.{(v >> 4) & 0xFF}";
    }
}
