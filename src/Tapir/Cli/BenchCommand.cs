// `tapir bench crypto` (hidden): signature operations per second through tapir's own code paths
// (the libcrypto EdDSA binding, the BCL's ECDSA), for bench/crypto.sh to set beside `openssl speed`.
using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using Tapir.Security.Interop;

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
            foreach (var curve in new[] { EdCurve.Ed25519, EdCurve.Ed448 })
            {
                byte[] secret = EdDsa.GeneratePrivateKey(curve);
                byte[] publicKey = EdDsa.PublicKeyOf(curve, secret);
                byte[] signature = EdDsa.Sign(curve, secret, message);
                output.WriteLine($"{curve.ToString().ToLowerInvariant()} sign {Rate(duration, () => EdDsa.Sign(curve, secret, message)):F0} verify {Rate(duration, () => EdDsa.Verify(curve, publicKey, message, signature)):F0}");
            }
            using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            byte[] ecSignature = ecdsa.SignData(message, HashAlgorithmName.SHA256);
            output.WriteLine($"p256 sign {Rate(duration, () => ecdsa.SignData(message, HashAlgorithmName.SHA256)):F0} verify {Rate(duration, () => ecdsa.VerifyData(message, ecSignature, HashAlgorithmName.SHA256)):F0}");
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
