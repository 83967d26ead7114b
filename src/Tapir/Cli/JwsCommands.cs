// `tapir jws sign|verify`: offline JWS tools for reviewers (DESIGN §1). verify accepts all three
// serializations, checks every signature against the given JWK set, and prints the payload bytes.
using System.CommandLine;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Cli;

public static class JwsCommands
{
    public static Command Build(TextWriter output, TextWriter error) =>
        CommandTree.Group("jws", "Offline JWS tools for reviewers.", Sign(output), Verify(output, error));

    private static Command Sign(TextWriter output)
    {
        var key = new Option<string>("--key") { Description = "Private JWK file to sign with.", Required = true };
        var json = new Option<bool>("--json") { Description = "General JSON serialization." };
        var flattened = new Option<bool>("--flattened") { Description = "Flattened JSON serialization." };
        var file = new Argument<string>("FILE") { Description = "Payload file (- for standard input)." };
        var sign = new Command("sign", "Sign a file as a JWS (compact by default).") { key, json, flattened, file };
        sign.SetAction(parsed =>
        {
            if (parsed.GetValue(json) && parsed.GetValue(flattened))
            {
                throw new TapirException("--json and --flattened exclude each other.") { ExitCode = ExitCodes.Usage };
            }
            var jwk = KeyFiles.ReadJwk(parsed.GetValue(key)!);
            if (!jwk.MaySign)
            {
                throw new TapirException($"{parsed.GetValue(key)} holds no private key that may sign.");
            }
            if (jwk.ImpliedAlgorithm is null)
            {
                throw new TapirException($"{parsed.GetValue(key)} has no alg; RSA and oct keys must name theirs.");
            }
            // A larger payload would make a JWS that verifiers (ours included) refuse as too large.
            byte[] payload = InputFile.Read(parsed.GetValue(file)!, JwsParser.DefaultMaxBytes);
            output.WriteLine(parsed.GetValue(json) ? JwsSigner.General(payload, [jwk])
                : parsed.GetValue(flattened) ? JwsSigner.Flattened(payload, jwk)
                : JwsSigner.Compact(payload, jwk));
            return ExitCodes.Success;
        });
        return sign;
    }

    private static Command Verify(TextWriter output, TextWriter error)
    {
        var jwks = new Option<string>("--jwks") { Description = "Trusted JWK set (or single JWK) file.", Required = true };
        var algs = new Option<string[]>("--alg") { Description = "Allowed algorithms (default: all asymmetric ones; HMAC only when named).", AllowMultipleArgumentsPerToken = true };
        var jwsFile = new Argument<string>("FILE") { Description = "A JWS in any serialization (- for standard input)." };
        var verify = new Command("verify", "Verify a JWS against a JWK set and print its payload.") { jwks, algs, jwsFile };
        verify.SetAction(parsed =>
        {
            var allowed = new HashSet<JwsAlgorithm>();
            foreach (var name in parsed.GetValue(algs) ?? [])
            {
                allowed.Add(JwsAlgorithms.TryParse(name, out var a) ? a
                    : throw new TapirException($"unknown algorithm '{name}'.") { ExitCode = ExitCodes.Usage });
            }
            var policy = new JwsPolicy(allowed.Count > 0 ? allowed : JwsAlgorithms.Asymmetric, KeyFiles.ReadJwkSet(parsed.GetValue(jwks)!));
            byte[] input = TrimFinalNewline(InputFile.Read(parsed.GetValue(jwsFile)!, JwsParser.DefaultMaxBytes + 1));
            if (!JwsVerifier.TryVerify(input, policy, out var verified, out var why))
            {
                throw new TapirException($"JWS refused: {why}.");
            }
            error.WriteLine($"tapir: verified {verified.Message.Serialization} JWS, {verified.Keys.Count} signature(s), kid {string.Join(", ", verified.Keys.Select(k => k.Kid))}");
            output.Flush();
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(verified.Payload);
            return ExitCodes.Success;
        });
        return verify;
    }

    /// <summary>Files written by editors and `tapir jws sign` end in one newline; it is not part of the JWS.</summary>
    private static byte[] TrimFinalNewline(byte[] input) =>
        input.Length > 0 && input[^1] == (byte)'\n' ? input[..^1] : input;
}
