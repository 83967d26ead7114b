// `tapir core init`, `tapir core serve` and `tapir core renew-server-cert` (DESIGN §1).
using System.CommandLine;
using Tapir.Core;
using Tapir.Core.Api;
using Tapir.Core.Enrollment;
using Tapir.Logging;
using Tapir.Security.Jose;

namespace Tapir.Cli;

public static class CoreCommands
{
    public static Command Init(TextWriter output)
    {
        var state = Settings.StateOption();
        var name = new Option<string?>("--name") { Description = "DNS name of the core (default: core.name from the configuration)." };
        var alg = new Option<string>("--alg") { Description = "Algorithm of the core data-signing key.", DefaultValueFactory = _ => "EdDSA" };
        var crv = new Option<string?>("--crv") { Description = "Curve for EdDSA: Ed25519 (default) or Ed448." };
        var init = new Command("init", "Create the core state: CA, server certificate, data key, database.") { state, name, alg, crv };
        init.SetAction(parsed =>
        {
            var config = Settings.Load(parsed);
            string dir = parsed.GetValue(state) ?? config.Core.StateDir;
            if (!JwsAlgorithms.TryParse(parsed.GetValue(alg), out var algorithm) || JwsAlgorithms.IsHmac(algorithm))
            {
                throw new TapirException($"--alg: '{parsed.GetValue(alg)}' is not an asymmetric JWS algorithm.") { ExitCode = ExitCodes.Usage };
            }
            string coreName = parsed.GetValue(name) ?? config.Core.Name;
            CoreState.Init(dir, config.Core, coreName, algorithm, parsed.GetValue(crv), DateTimeOffset.UtcNow);
            using var core = CoreState.Load(dir);
            output.WriteLine($"initialised core {coreName} in {dir}");
            output.WriteLine($"CA fingerprint: {core.CaFingerprint}");
            output.WriteLine($"core data key: {core.DataKey.Kid} ({JwsAlgorithms.Name(core.DataKey.Alg!.Value)})");
            return ExitCodes.Success;
        });
        return init;
    }

    public static Command Serve()
    {
        var state = Settings.StateOption();
        var serve = new Command("serve", "Run the HTTPS API (enrollment, renewal, key directory, CRL) and the MQTT broker.") { state };
        serve.SetAction((Func<ParseResult, CancellationToken, Task<int>>)(async (parsed, _) =>
        {
            var config = Settings.Load(parsed);
            var signals = ProcessSignals.Install();
            using (var core = CoreState.Load(parsed.GetValue(state) ?? config.Core.StateDir))
            {
                var context = new CoreContext(core, config.Core, core.OpenDatabase(), TimeProvider.System);
                try
                {
                    Core.Aggregates.AggregateStore.Sweep(context);
                    await Core.CoreServer.RunAsync(context, signals.Stopping).ConfigureAwait(false);
                }
                finally
                {
                    context.CloseDatabase();
                }
            }
            Log.Info("stopped");
            return ExitCodes.Success;
        }));
        return serve;
    }

    public static Command RenewServerCert(TextWriter output)
    {
        var state = Settings.StateOption();
        var renew = new Command("renew-server-cert",
            "Issue a fresh TLS server key and certificate from the core CA, with the same names. A running 'tapir core serve' keeps the old one until it is restarted.") { state };
        renew.SetAction(parsed =>
        {
            var config = Settings.Load(parsed);
            using var core = CoreState.Load(parsed.GetValue(state) ?? config.Core.StateDir);
            using var server = core.RenewServerCertificate(DateTimeOffset.UtcNow);
            output.WriteLine($"renewed the server certificate of {server.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, false)}: " +
                $"serial {Convert.ToHexStringLower(server.SerialNumberBytes.Span)}, valid until {new DateTimeOffset(server.NotAfter.ToUniversalTime()):u}; restart 'tapir core serve' to use it.");
            return ExitCodes.Success;
        });
        return renew;
    }
}
