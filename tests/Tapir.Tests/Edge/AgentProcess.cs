// A real `tapir edge run` for host tests, started the way systemd starts it (own session, stdin on
// /dev/null, no terminal) and stopped the way operators stop it: SIGTERM, after which it must log
// `stopped` and exit with status 0 within 10 s.
using System.Diagnostics;

namespace Tapir.Tests.Edge;

internal sealed class AgentProcess : IDisposable
{
    private readonly Process process;
    private readonly StringWriter log = new();

    public AgentProcess(string stateDir, IDictionary<string, string> environment)
    {
        process = Service.Start("exec \"$0\" edge run --state \"$1\" </dev/null", [Repo.Binary, stateDir], environment, log);
    }

    public int Pid => process.Id;

    public string LogText
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    public int Count(string fragment)
    {
        string text = LogText;
        int count = 0;
        for (int at = text.IndexOf(fragment, StringComparison.Ordinal); at >= 0; at = text.IndexOf(fragment, at + fragment.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    /// <summary>Waits until the log holds the fragment at least <paramref name="times"/> times; fails after the time.</summary>
    public void AssertLogged(string fragment, int times = 1, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (Count(fragment) < times)
        {
            Assert.False(process.HasExited, $"the agent exited; waiting for '{fragment}':\n{LogText}");
            Assert.True(DateTime.UtcNow < deadline, $"not in the log {times} time(s) within {seconds} s: {fragment}\n{LogText}");
            Thread.Sleep(50);
        }
    }

    /// <summary>SIGTERM: the agent must log `stopped` and exit 0 within 10 s.</summary>
    public void Stop()
    {
        if (process.HasExited)
        {
            process.WaitForExit();
            throw new Xunit.Sdk.XunitException($"the agent had exited with status {process.ExitCode}: {LogText}");
        }
        Run.Process("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
            throw new Xunit.Sdk.XunitException($"the agent was still running 10 s after SIGTERM (killed): {LogText}");
        }
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"the agent exited with status {process.ExitCode} after SIGTERM: {LogText}");
        Assert.Contains("msg=\"stopped\"", LogText, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                Stop();
            }
        }
        finally
        {
            process.Dispose();
        }
    }
}
