// Debian's mosquitto as the broker for edge tests (issue 12, DESIGN §6.6): a real process with a
// test-written mosquitto.conf: one TLS listener on a free 127.0.0.1 port with the core's server
// certificate and key, cafile = the tapir root, require_certificate and use_identity_as_username,
// and an ACL file with the default edge rules of DESIGN §6.2 as patterns plus full access for the
// core role. Stopped with SIGTERM; a stop must end with status 0.
using System.Diagnostics;
using Tapir.Tests.Core;

namespace Tapir.Tests.Edge;

internal sealed class Mosquitto : IDisposable
{
    private readonly string directory;
    private readonly string coreState;
    private readonly string coreRole;
    private readonly (string Certificate, string Key) server;
    private Process? process;

    /// <summary>A broker in <paramref name="directory"/>; <paramref name="server"/> replaces the core's TLS pair (for refusal tests).</summary>
    public Mosquitto(string directory, string coreState, string coreRole, (string Certificate, string Key)? server = null)
    {
        this.directory = directory;
        this.coreState = coreState;
        this.coreRole = coreRole;
        this.server = server ?? (Path.Combine(coreState, "server.crt"), Path.Combine(coreState, "server.key"));
        Port = CoreProcess.FreePort();
        WriteConfiguration();
    }

    /// <summary>A broker on a configuration written elsewhere (`tapir core mosquitto-config`): <paramref name="directory"/>
    /// holds its mosquitto.conf, whose listener is 127.0.0.1:<paramref name="port"/>.</summary>
    public Mosquitto(string directory, string coreState, int port)
    {
        this.directory = directory;
        this.coreState = coreState;
        coreRole = "";
        server = (Path.Combine(directory, "server.crt"), Path.Combine(directory, "server.key"));
        Port = port;
    }

    public int Port { get; }

    public StringWriter Log { get; } = new();

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

    private void WriteConfiguration()
    {
        File.WriteAllText(Path.Combine(directory, "mosquitto.acl"), $"""
            user {coreRole}
            topic readwrite #
            pattern read configuration/%u/#
            pattern read config/down/#
            pattern read observations/down/#
            pattern write status/up/%u/#
            pattern write events/up/%u/#

            """);
        File.WriteAllText(Path.Combine(directory, "mosquitto.conf"), $"""
            per_listener_settings false
            allow_anonymous false
            user root
            persistence false
            listener {Port} 127.0.0.1
            cafile {coreState}/ca.crt
            certfile {server.Certificate}
            keyfile {server.Key}
            require_certificate true
            use_identity_as_username true
            acl_file {directory}/mosquitto.acl
            log_dest stderr
            log_type error
            log_type warning
            log_type notice

            """);
    }

    public void Start()
    {
        process = Service.Start("exec mosquitto -c \"$0\" </dev/null", [Path.Combine(directory, "mosquitto.conf")], new Dictionary<string, string>(), Log);
        Service.WaitForListener(process, Port, "mosquitto", () => LogText, 10);
    }

    /// <summary>SIGTERM; mosquitto must exit with status 0 within 10 s.</summary>
    public void Stop()
    {
        if (process is null)
        {
            return;
        }
        if (!process.HasExited)
        {
            Run.Process("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        bool exited = process.WaitForExit(10_000);
        if (!exited)
        {
            process.Kill();
        }
        process.WaitForExit();
        int status = process.ExitCode;
        process.Dispose();
        process = null;
        Assert.True(exited && status == 0, $"mosquitto {(exited ? $"exited with status {status}" : "did not stop within 10 s")}: {LogText}");
    }

    /// <summary>mosquitto_pub as the core role (MQTT 5, QoS 1), a file as the payload; returns the result.</summary>
    public ProcessResult Publish(string topic, string file, string certificate, string key, bool retain = false)
    {
        var args = new List<string> { "-V", "5", "-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cafile", Path.Combine(coreState, "ca.crt"),
            "--cert", certificate, "--key", key, "-q", "1", "-t", topic, "-f", file };
        if (retain)
        {
            args.Add("-r");
        }
        return Run.Process("mosquitto_pub", args);
    }

    /// <summary>mosquitto_sub: the first message on the topic within the time (-C 1 -W seconds).</summary>
    public ProcessResult SubscribeOnce(string topic, string certificate, string key, int seconds) =>
        Run.Process("mosquitto_sub", ["-V", "5", "-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cafile", Path.Combine(coreState, "ca.crt"),
            "--cert", certificate, "--key", key, "-q", "1", "-t", topic, "-C", "1", "-W", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    public void Dispose() => Stop();
}
