// `tapir key generate|public|thumbprint`: data-signing keys as JWK (DESIGN §1, §2).
using System.CommandLine;
using Tapir.Security.Jose;

namespace Tapir.Cli;

public static class KeyCommands
{
    public static Command Build(TextWriter output) =>
        CommandTree.Group("key", "Data-signing keys (JWK).", Generate(output), Public(output), ThumbprintCommand(output));

    private static Command Generate(TextWriter output)
    {
        var alg = new Option<string>("--alg") { Description = "JWS algorithm: EdDSA, ES256, ES384, ES512, PS256..PS512, RS256..RS512, HS256..HS512.", Required = true };
        var crv = new Option<string?>("--crv") { Description = "Curve for EdDSA: Ed25519 (default) or Ed448." };
        var kid = new Option<string?>("--kid") { Description = "Key id (default: the RFC 7638 thumbprint)." };
        var outFile = new Option<string?>("--out") { Description = "Write the private JWK to this file (mode 0600, atomically) instead of stdout." };
        var generate = new Command("generate", "Print a new private JWK with kid and alg.") { alg, crv, kid, outFile };
        generate.SetAction(parsed =>
        {
            string name = parsed.GetValue(alg)!;
            if (!JwsAlgorithms.TryParse(name, out var algorithm))
            {
                throw new TapirException($"unknown algorithm '{name}'; use one of {string.Join(", ", JwsAlgorithms.All)}.") { ExitCode = ExitCodes.Usage };
            }
            string? curve = parsed.GetValue(crv);
            if (curve is not null && algorithm != JwsAlgorithm.EdDSA)
            {
                throw new TapirException("--crv applies to EdDSA only.") { ExitCode = ExitCodes.Usage };
            }
            if (curve is not null && curve is not ("Ed25519" or "Ed448"))
            {
                throw new TapirException($"unknown curve '{curve}'; use Ed25519 or Ed448.") { ExitCode = ExitCodes.Usage };
            }
            string json = JwkGenerator.Generate(algorithm, curve, parsed.GetValue(kid)).ToJson(includePrivate: true) + "\n";
            if (parsed.GetValue(outFile) is string path)
            {
                Tapir.Storage.PrivateKeyFile.Write(path, System.Text.Encoding.UTF8.GetBytes(json));
            }
            else
            {
                output.Write(json);
            }
            return ExitCodes.Success;
        });
        return generate;
    }

    private static Command Public(TextWriter output)
    {
        var file = new Argument<string>("FILE") { Description = "A JWK file (- for standard input)." };
        var publicKey = new Command("public", "Print the public JWK of a private JWK file.") { file };
        publicKey.SetAction(parsed =>
        {
            var key = KeyFiles.ReadJwk(parsed.GetValue(file)!);
            if (key.IsSymmetric)
            {
                throw new TapirException("a symmetric (oct) key has no public form.");
            }
            output.WriteLine(key.PublicKey().ToJson());
            return ExitCodes.Success;
        });
        return publicKey;
    }

    private static Command ThumbprintCommand(TextWriter output)
    {
        var thumbFile = new Argument<string>("FILE") { Description = "A JWK file (- for standard input)." };
        var thumbprint = new Command("thumbprint", "Print the RFC 7638 SHA-256 thumbprint of a JWK file.") { thumbFile };
        thumbprint.SetAction(parsed =>
        {
            output.WriteLine(Thumbprint.Compute(KeyFiles.ReadJwk(parsed.GetValue(thumbFile)!)));
            return ExitCodes.Success;
        });
        return thumbprint;
    }
}
