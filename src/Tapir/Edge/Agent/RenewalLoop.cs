// Automatic renewal inside `tapir edge run` (DESIGN §4.3): at two thirds of the certificate's
// lifetime with jitter (Renewer.DueAt), or edge.renew_after after the current certificate was
// taken into use when that key is set (tests and drills). A failed attempt (the core unreachable,
// a refusal, a bad answer) keeps the current certificate and is retried with exponential backoff
// (5 s doubling, at most 10 min), each failure logged with how long the current certificate has
// left. A renewed certificate is handed to the agent, which reconnects with it. Each attempt is
// counted in EdgeMetrics (renewed, failed). A certificate renewed outside the loop (`tapir edge
// renew`) that the agent took into use is announced with Adopt: the loop stops waiting or retrying
// for the old one and schedules the next renewal from the new one.
using System.Security.Cryptography.X509Certificates;
using Tapir.Edge.Renew;
using Tapir.Logging;
using Tapir.Metrics;

namespace Tapir.Edge.Agent;

public sealed class RenewalLoop(EdgeState state, TimeSpan renewAfter, Action<X509Certificate2> renewed)
{
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromMinutes(10);
    // Task.Delay takes at most about 49 days; a longer wait is done in steps.
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private X509Certificate2? adopted;
    private TaskCompletionSource adoptedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A certificate renewed outside this loop is in use now: schedule from it.</summary>
    public void Adopt(X509Certificate2 certificate)
    {
        Volatile.Write(ref adopted, certificate);
        Volatile.Read(ref adoptedSignal).TrySetResult();
    }

    public async Task RunAsync(X509Certificate2 current, CancellationToken stop)
    {
        try
        {
            var inUseSince = DateTimeOffset.UtcNow;
            while (true)
            {
                var due = renewAfter > TimeSpan.Zero ? inUseSince + renewAfter : Renewer.DueAt(current);
                Log.Info($"renewal of certificate serial {Serial(current)} is due at {due:u}");
                var next = await WaitUntilAsync(due, stop).ConfigureAwait(false)
                    ? await RenewAsync(current, stop).ConfigureAwait(false) : null;
                if (next is null)
                {
                    current = TakeAdopted() ?? current;
                }
                else
                {
                    TakeAdopted(); // adopted before this renewal: older than the certificate it issued
                    current = next;
                    renewed(current);
                }
                inUseSince = DateTimeOffset.UtcNow;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private X509Certificate2? TakeAdopted()
    {
        Volatile.Write(ref adoptedSignal, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return Interlocked.Exchange(ref adopted, null);
    }

    /// <summary>The renewed certificate, or null if one renewed outside the loop was adopted meanwhile.</summary>
    private async Task<X509Certificate2?> RenewAsync(X509Certificate2 current, CancellationToken stop)
    {
        for (int failures = 0; ; failures++)
        {
            try
            {
                Log.Info(await Renewer.RenewWithRetryAsync(state, TimeProvider.System, 1, TimeSpan.FromSeconds(1), AttemptTimeout, stop).ConfigureAwait(false));
                EdgeMetrics.Renewals.Add(1, EdgeMetrics.Outcome("renewed"));
                return await state.LockedTlsIdentityAsync(AttemptTimeout, stop).ConfigureAwait(false);
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                EdgeMetrics.Renewals.Add(1, EdgeMetrics.Outcome("failed"));
                var left = new DateTimeOffset(current.NotAfter.ToUniversalTime()) - DateTimeOffset.UtcNow;
                var delay = TimeSpan.FromSeconds(Math.Min(LongestRetry.TotalSeconds, 5 * Math.Pow(2, Math.Min(failures, 10))) * (0.75 + 0.5 * Random.Shared.NextDouble()));
                Log.Warning($"renewal failed ({e.Message}{(e.InnerException is null ? "" : ": " + e.InnerException.Message)}); " +
                    $"the current certificate {(left > TimeSpan.Zero ? $"expires in {Describe(left)}" : "has expired")}; retrying in {delay.TotalSeconds:F1} s");
                if (!await WaitUntilAsync(DateTimeOffset.UtcNow + delay, stop).ConfigureAwait(false))
                {
                    return null;
                }
            }
        }
    }

    /// <summary>Waits until the time; false if a certificate was adopted first.</summary>
    private async Task<bool> WaitUntilAsync(DateTimeOffset due, CancellationToken stop)
    {
        var signal = Volatile.Read(ref adoptedSignal).Task;
        using var cut = CancellationTokenSource.CreateLinkedTokenSource(stop);
        for (var left = due - DateTimeOffset.UtcNow; left > TimeSpan.Zero; left = due - DateTimeOffset.UtcNow)
        {
            var delay = Task.Delay(left < LongestWait ? left : LongestWait, cut.Token);
            if (await Task.WhenAny(delay, signal).ConfigureAwait(false) == signal)
            {
                await cut.CancelAsync().ConfigureAwait(false);
                return false;
            }
            await delay.ConfigureAwait(false);
        }
        return !signal.IsCompleted;
    }

    private static string Describe(TimeSpan left) =>
        left.TotalDays >= 1 ? $"{left.TotalDays:F1} d" : left.TotalHours >= 1 ? $"{left.TotalHours:F1} h" : $"{left.TotalMinutes:F1} min";

    private static string Serial(X509Certificate2 certificate) => Convert.ToHexStringLower(certificate.SerialNumberBytes.Span);
}
