// `tapir bench crypto` (hidden): signature operations per second through tapir's own code paths
// (JWK + JwsCrypto: the libcrypto EdDSA binding, the BCL's ECDSA), for bench/crypto.sh to set beside
// `openssl speed`.
using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using Tapir.Security.Jose;

namespace Tapir.Cli;

public static class BenchCommand
{
    public static Command Build(TextWriter output)
    {
        var seconds = new Option<double>("--seconds") { Description = "Seconds per measurement.", DefaultValueFactory = _ => 2.0 };
        var crypto = new Command("crypto", "Sign and verify operations per second: Ed25519, Ed448, ECDSA P-256.");
        crypto.Options.Add(seconds);
        crypto.SetAction(parsed =>
        {
            var duration = TimeSpan.FromSeconds(parsed.GetValue(seconds));
            byte[] message = RandomNumberGenerator.GetBytes(64);
            foreach (var (label, alg, curve) in new[] { ("ed25519", JwsAlgorithm.EdDSA, "Ed25519"), ("ed448", JwsAlgorithm.EdDSA, "Ed448"), ("p256", JwsAlgorithm.ES256, null) })
            {
                // The product's own path: a JWK and JwsCrypto, as JWS and RFC 9421 use them.
                var key = JwkGenerator.Generate(alg, curve);
                var publicKey = key.PublicKey();
                byte[] signature = JwsCrypto.Sign(key, alg, message);
                output.WriteLine($"{label} sign {Rate(duration, () => JwsCrypto.Sign(key, alg, message)):F0} verify {Rate(duration, () => JwsCrypto.Verify(publicKey, alg, message, signature)):F0}");
            }
            return ExitCodes.Success;
        });
        var bench = new Command("bench", "Benchmarks (used by make bench).") { Hidden = true };
        bench.Subcommands.Add(crypto);
        return bench;
    }

    private static double Rate(TimeSpan duration, Func<object> operation)
    {
        operation(); // warm up
        long count = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            for (int i = 0; i < 16; i++)
            {
                operation();
            }
            count += 16;
        }
        return count / clock.Elapsed.TotalSeconds;
    }
}
