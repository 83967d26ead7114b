// The one owner of process signals for long-running commands (`core serve`, later `edge run`):
// SIGTERM or SIGINT starts a graceful stop (the Stopping token), a second one during the drain
// exits at once with status 1, SIGHUP is logged and ignored (reloading is not built). The
// registrations are kept for the life of the process: a dropped PosixSignalRegistration is
// finalised and unregisters itself. Nothing else in the program registers a signal handler
// (System.CommandLine's and the web host's own handlers are switched off where they are built).
using System.Runtime.InteropServices;
using Tapir.Logging;

namespace Tapir.Cli;

public sealed class ProcessSignals
{
    private static readonly Lock InstallGate = new();
    private static ProcessSignals? installed;

    private readonly CancellationTokenSource stopping = new();
    private readonly Action<int> exit;
    private readonly List<PosixSignalRegistration> registrations = [];
    private int stopSignals;

    internal ProcessSignals(Action<int> exit)
    {
        this.exit = exit;
    }

    /// <summary>Cancelled at the first SIGTERM or SIGINT.</summary>
    public CancellationToken Stopping => stopping.Token;

    /// <summary>Registers SIGTERM, SIGINT and SIGHUP for this process; once per process.</summary>
    public static ProcessSignals Install()
    {
        lock (InstallGate)
        {
            if (installed is not null)
            {
                throw new InvalidOperationException("process signals are already installed");
            }
            var signals = new ProcessSignals(Environment.Exit);
            foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP })
            {
                signals.registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;
                    signals.Handle(context.Signal);
                }));
            }
            installed = signals;
            return signals;
        }
    }

    /// <summary>What one signal does; separate from the registration so tests can drive it.</summary>
    internal void Handle(PosixSignal signal)
    {
        if (signal == PosixSignal.SIGHUP)
        {
            Log.Info("SIGHUP received: reloading is not supported; still running");
            return;
        }
        if (Interlocked.Increment(ref stopSignals) == 1)
        {
            Log.Info($"{signal} received: stopping");
            // Cancel off the signal thread: token callbacks must not delay the next signal.
            _ = Task.Run(stopping.Cancel);
            return;
        }
        Log.Warning($"{signal} received during the drain: exiting now");
        exit(ExitCodes.Failure);
    }
}
