// `tapir edge enroll`, `renew`, `run` and `publish` (DESIGN §1, §4.2, §4.3, §6).
using System.CommandLine;
using Tapir.Edge;
using Tapir.Edge.Agent;
using Tapir.Edge.Enroll;
using Tapir.Edge.Publish;
using Tapir.Edge.Renew;
using Tapir.Logging;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Cli;

public static class EdgeCommands
{
    public static Command Enroll(TextWriter output)
    {
        var credentials = new Option<string>("--credentials") { Description = "Credentials file from 'tapir core node add'.", Required = true };
        var state = Settings.StateOption();
        var alg = new Option<string>("--alg") { Description = "Data key algorithm (EdDSA, ES256, ES384, ES512, PS256..., RS256...).", DefaultValueFactory = _ => "EdDSA" };
        var crv = new Option<string?>("--crv") { Description = "Curve for EdDSA: Ed25519 (default) or Ed448." };
        var force = new Option<bool>("--force") { Description = "Enroll again over an enrolled state." };
        var enroll = new Command("enroll", "Enroll with a credentials file and write the edge state.") { credentials, state, alg, crv, force };
        enroll.SetAction((Func<ParseResult, CancellationToken, Task<int>>)(async (parsed, cancel) =>
        {
            var config = Settings.Load(parsed);
            if (!JwsAlgorithms.TryParse(parsed.GetValue(alg), out var algorithm) || JwsAlgorithms.IsHmac(algorithm))
            {
                throw new TapirException($"--alg: '{parsed.GetValue(alg)}' is not an asymmetric JWS algorithm.") { ExitCode = ExitCodes.Usage };
            }
            var creds = Enroller.ReadCredentials(parsed.GetValue(credentials)!);
            var edge = new EdgeState(parsed.GetValue(state) ?? config.Edge.StateDir);
            try
            {
                output.WriteLine(await Enroller.EnrollAsync(creds, edge, algorithm, parsed.GetValue(crv), parsed.GetValue(force), TimeProvider.System, cancel).ConfigureAwait(false));
            }
            catch (HttpRequestException e)
            {
                throw new TapirException($"cannot reach {creds.NodemanUrl}: {Describe(e)}");
            }
            catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new TapirException($"the core at {creds.NodemanUrl} did not answer in time.");
            }
            return ExitCodes.Success;
        }));
        return enroll;
    }

    public static Command Renew(TextWriter output)
    {
        var state = Settings.StateOption();
        var attempts = new Option<int>("--attempts") { Description = "Attempts before giving up (backoff between them), 1 to 100.", DefaultValueFactory = _ => 3 };
        attempts.Validators.Add(result =>
        {
            // A value that is no int at all already has the parser's own error.
            if (result.Tokens.Count > 0 && int.TryParse(result.Tokens[^1].Value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n) && n is < 1 or > 100)
            {
                result.AddError("--attempts must be from 1 to 100");
            }
        });
        var timeout = new Option<string>("--timeout") { Description = "How long each attempt waits for the core's answer (1s to 10m).", DefaultValueFactory = _ => "30s" };
        var renew = new Command("renew", "Renew the mTLS certificate now.") { state, attempts, timeout };
        renew.SetAction((Func<ParseResult, CancellationToken, Task<int>>)(async (parsed, cancel) =>
        {
            var config = Settings.Load(parsed);
            var wait = Settings.Duration(parsed.GetValue(timeout)!, "--timeout", new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10)));
            var edge = new EdgeState(parsed.GetValue(state) ?? config.Edge.StateDir);
            if (!edge.IsEnrolled)
            {
                throw new TapirException($"{edge.Directory} is not enrolled; run 'tapir edge enroll' first.");
            }
            try
            {
                output.WriteLine(await Renewer.RenewWithRetryAsync(edge, TimeProvider.System, parsed.GetValue(attempts), TimeSpan.FromSeconds(1), wait, cancel).ConfigureAwait(false));
            }
            catch (TimeoutException)
            {
                throw new TapirException($"the core at {edge.ReadBootstrap().NodemanUrl} did not answer within {Config.Durations.Format(wait)}; keeping the current certificate.");
            }
            catch (HttpRequestException e)
            {
                throw new TapirException($"cannot reach the core: {Describe(e)} (a removed node's certificate is refused at the TLS handshake)");
            }
            return ExitCodes.Success;
        }));
        return renew;
    }

    public static Command Run()
    {
        var state = Settings.StateOption();
        var run = new Command("run", "Run the long-lived agent: MQTT over mTLS, verified configuration, signed status, renewal.") { state };
        run.SetAction((Func<ParseResult, CancellationToken, Task<int>>)(async (parsed, _) =>
        {
            var config = Settings.Load(parsed);
            var edge = Enrolled(parsed.GetValue(state) ?? config.Edge.StateDir);
            using var agent = new EdgeAgent(edge, config.Edge);
            var signals = ProcessSignals.Install();
            await agent.RunAsync(signals.Stopping).ConfigureAwait(false);
            Log.Info("stopped");
            return ExitCodes.Success;
        }));
        return run;
    }

    public static Command Publish(TextWriter output)
    {
        var topic = new Argument<string>("TOPIC") { Description = "Topic to publish on (no +, # or NUL)." };
        var file = new Argument<string>("FILE") { Description = "JSON message to sign with the data key (- for standard input)." };
        var state = Settings.StateOption();
        var publish = new Command("publish", "Sign FILE's JSON with the data key and publish it once (QoS 1, waits for the PUBACK).") { topic, file, state };
        publish.SetAction((Func<ParseResult, CancellationToken, Task<int>>)(async (parsed, cancel) =>
        {
            var config = Settings.Load(parsed);
            string name = parsed.GetValue(topic)!;
            if (!Publisher.IsPublishTopic(name))
            {
                throw new TapirException($"TOPIC: '{name}' is not a topic one may publish on (empty, over {Publisher.MaxTopicBytes} bytes, or holding +, # or NUL, or starting with $).") { ExitCode = ExitCodes.Usage };
            }
            byte[] json = InputFile.Read(parsed.GetValue(file)!, JwsParser.DefaultMaxBytes / 2);
            var edge = Enrolled(parsed.GetValue(state) ?? config.Edge.StateDir);
            output.WriteLine(await Publisher.PublishAsync(edge, name, json, cancel).ConfigureAwait(false));
            return ExitCodes.Success;
        }));
        return publish;
    }

    private static EdgeState Enrolled(string directory)
    {
        var edge = new EdgeState(directory);
        return edge.IsEnrolled ? edge : throw new TapirException($"{edge.Directory} is not enrolled; run 'tapir edge enroll' first.");
    }

    /// <summary>The innermost cause: a refused TLS handshake says so, not just "error while sending".</summary>
    private static string Describe(Exception e)
    {
        var messages = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            messages.Add(x.Message.TrimEnd('.'));
        }
        return string.Join(": ", messages.Distinct());
    }
}
