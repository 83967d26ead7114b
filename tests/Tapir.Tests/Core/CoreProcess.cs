// A real `tapir core` for host tests: a state directory in a temp dir, `core init`, and
// `core serve` as a child process on a free 127.0.0.1 port, started as systemd and CI start
// services: its own session (setsid, no controlling terminal) and stdin on /dev/null. Every
// process it starts, it stops the way operators do (SIGTERM), and a core that does not exit
// with status 0 within 10 s fails the test.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Tapir.Tests.Core;

internal sealed class CoreProcess : IDisposable
{
    private readonly TempDir dir = new();
    private Process? serve;

    public CoreProcess(string alg = "EdDSA")
    {
        Port = FreePort();
        MqttPort = FreePort();
        Environment = new Dictionary<string, string>
        {
            ["TAPIR_CORE__STATE_DIR"] = StateDir,
            ["TAPIR_CORE__LISTEN"] = $"127.0.0.1:{Port}",
            ["TAPIR_CORE__PUBLIC_URL"] = $"https://127.0.0.1:{Port}/",
            // Off unless a test asks for it: the default 127.0.0.1:9464 would be shared by parallel cores.
            ["TAPIR_CORE__METRICS_LISTEN"] = "",
            ["TAPIR_CORE__MQTT_LISTEN"] = $"127.0.0.1:{MqttPort}",
            ["TAPIR_CORE__MQTT_URL"] = $"mqtts://127.0.0.1:{MqttPort}",
        };
        var init = Tapir("core", "init", "--alg", alg);
        Assert.True(init.ExitCode == 0, init.Stderr);
    }

    public int Port { get; }

    /// <summary>The embedded MQTT broker's TLS port.</summary>
    public int MqttPort { get; }

    public Dictionary<string, string> Environment { get; }

    public string StateDir => dir.File("core");

    public string File(string name) => dir.File(name);

    public Uri BaseUrl => new($"https://127.0.0.1:{Port}/");

    public X509Certificate2 Root => X509Certificate2.CreateFromPem(System.IO.File.ReadAllText(Path.Combine(StateDir, "ca.crt")));

    public StringWriter Log { get; } = new();

    /// <summary>The log so far; the reader threads append to it, so it is read under its lock.</summary>
    public string LogText
    {
        get
        {
            lock (Log)
            {
                return Log.ToString();
            }
        }
    }

    public ProcessResult Tapir(params string[] args) => Run.Tapir(Environment, args);

    public int Pid => serve?.Id ?? throw new InvalidOperationException("core serve is not running");

    public void Start()
    {
        // setsid does not fork here (a child of this process is no process-group leader), so
        // the PID is tapir's own once the shell has exec'ed it.
        serve = Service.Start("exec \"$0\" core serve </dev/null", [Repo.Binary], Environment, Log);
        Service.WaitForListener(serve, Port, "core serve", () => LogText, 20);
    }

    /// <summary>SIGKILL: the crash the durability tests need.</summary>
    public void Kill()
    {
        if (serve is { HasExited: false })
        {
            serve.Kill();
            serve.WaitForExit();
        }
        serve?.Dispose();
        serve = null;
    }

    /// <summary>Sends a signal by name (TERM, INT, HUP) to the running core.</summary>
    public void Signal(string name)
    {
        var r = Run.Process("kill", [$"-{name}", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(r.ExitCode == 0, r.Stderr);
    }

    /// <summary>The exit status if the core exits within the time, else null (still running).</summary>
    public int? WaitForExit(TimeSpan timeout)
    {
        var process = serve ?? throw new InvalidOperationException("core serve is not running");
        if (!process.WaitForExit(timeout))
        {
            return null;
        }
        process.WaitForExit(); // drains the redirected output
        int status = process.ExitCode;
        process.Dispose();
        serve = null;
        return status;
    }

    /// <summary>SIGTERM, then the core must exit with status 0 within 10 s.</summary>
    public void Stop()
    {
        if (serve is null)
        {
            return;
        }
        bool running = !serve.HasExited;
        if (running)
        {
            // it may exit between the check and the signal: then the exit status tells
            Run.Process("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        int? status = WaitForExit(TimeSpan.FromSeconds(10));
        if (status is null)
        {
            Kill();
            throw new Xunit.Sdk.XunitException($"core serve was still running 10 s after SIGTERM (killed): {LogText}");
        }
        if (status != 0)
        {
            throw new Xunit.Sdk.XunitException($"core serve {(running ? "exited after SIGTERM" : "had exited")} with status {status}: {LogText}");
        }
    }

    /// <summary>Waits (stderr is read asynchronously) until the log has the fragment; fails after 5 s.</summary>
    public void AssertLogged(string fragment)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            lock (Log)
            {
                if (Log.ToString().Contains(fragment, StringComparison.Ordinal))
                {
                    return;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"not in the log: {fragment}\n{LogText}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Creates a node and returns the path of its credentials file.</summary>
    public string AddNode(string name, string expires = "1h")
    {
        string path = dir.File($"{name}.credentials.json");
        var r = Tapir("core", "node", "add", name, "--expires", expires, "--out", path);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Stop();
        }
        finally
        {
            dir.Dispose();
        }
    }

    // Ports come from below Linux's ephemeral range (32768 and up by default), so no outgoing
    // connection of a parallel test can take the port between this check and `core serve`
    // binding it; a process-wide counter keeps the cores of one run apart.
    private static int nextPort = 20000 + Random.Shared.Next(10000);

    internal static int FreePort()
    {
        for (int tries = 0; tries < 1000; tries++)
        {
            int port = Interlocked.Increment(ref nextPort);
            if (port >= 32000)
            {
                Interlocked.CompareExchange(ref nextPort, 20000, port);
                continue;
            }
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // in use by something else on this machine: try the next
            }
        }
        throw new InvalidOperationException("no free port between 20000 and 32000 on 127.0.0.1");
    }
}
