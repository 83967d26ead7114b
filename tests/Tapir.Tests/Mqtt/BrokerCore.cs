// One real core with its embedded broker for the MQTT tests (issue 11): enrolled edges edge1 and
// edge2 (Ed25519 data keys), edge3 (to be removed by the removal test), and reader, a core role.
// Peers: Debian's mosquitto_pub/mosquitto_sub and MQTT.js (tests/interop/mqtt-peer.mjs), both with
// the nodes' own certificate and key files as `tapir edge enroll` wrote them.
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tapir.Storage;
using Tapir.Tests.Core;

namespace Tapir.Tests.Mqtt;

public sealed class BrokerCore : IDisposable
{
    public const string Edge1 = "edge1.example.net";
    public const string Edge2 = "edge2.example.net";
    public const string Edge3 = "edge3.example.net";
    public const string Reader = "reader.example.net";

    public BrokerCore()
        : this(metricsPort: null)
    {
    }

    /// <summary>A broker core whose operations listener (metrics) is on the given port.</summary>
    internal BrokerCore(int? metricsPort)
    {
        Core = new CoreProcess();
        Core.Environment["TAPIR_CORE__CORE_ROLES"] = Reader;
        if (metricsPort is int port)
        {
            Core.Environment["TAPIR_CORE__METRICS_LISTEN"] = $"127.0.0.1:{port}";
        }
        Core.Start();
        foreach (string name in new[] { Edge1, Edge2, Edge3, Reader })
        {
            string credentials = Core.AddNode(name);
            var r = Core.Tapir("edge", "enroll", "--credentials", credentials, "--state", Dir(name));
            Assert.True(r.ExitCode == 0, r.Stderr + Core.LogText);
        }
    }

    internal CoreProcess Core { get; }

    public string Dir(string name) => Core.File($"edge-{name}");

    public string Ca => Path.Combine(Dir(Edge1), "ca.crt");

    /// <summary>The node's private data key as JSON (kid = node, alg = EdDSA).</summary>
    public JsonNode DataKey(string name) => JsonNode.Parse(File.ReadAllText(Path.Combine(Dir(name), "datakey.jwk")))!;

    /// <summary>mosquitto_pub or mosquitto_sub with -d, as <paramref name="name"/> (certificate and key), over TLS to the broker.</summary>
    internal ProcessResult Mosquitto(string tool, string? name, string version, params string[] args)
    {
        var all = new List<string> { "-h", "127.0.0.1", "-p", Core.MqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cafile", Ca, "-V", version, "-d" };
        if (name is not null)
        {
            all.AddRange(["--cert", Path.Combine(Dir(name), "tls.crt"), "--key", Path.Combine(Dir(name), "tls.key")]);
        }
        all.AddRange(args);
        return Run.Process(tool, all);
    }

    /// <summary>A mosquitto_sub running beside the test as <paramref name="name"/> (QoS 1, -v), returned once its SUBACK is in.</summary>
    internal LiveProcess Subscriber(string name, string version, string clientId, string filter, params string[] extra)
    {
        // stdbuf: mosquitto's lines are seen as they are printed, not when the pipe's buffer fills.
        var start = new System.Diagnostics.ProcessStartInfo("stdbuf") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (string a in new[] { "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", Core.MqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cafile", Ca,
            "--cert", Path.Combine(Dir(name), "tls.crt"), "--key", Path.Combine(Dir(name), "tls.key"), "-V", version, "-d", "-v", "-q", "1", "-i", clientId, "-t", filter }.Concat(extra))
        {
            start.ArgumentList.Add(a);
        }
        var process = new LiveProcess(start);
        process.WaitFor("Subscribed (mid: 1): ");
        return process;
    }

    /// <summary>Runs one MQTT.js task as <paramref name="name"/>; returns its report.</summary>
    internal PeerReport MqttJs(string name, int version, string clientId, JsonArray steps, bool clean = true, string? cert = null, string? key = null)
    {
        var task = new JsonObject
        {
            ["url"] = $"mqtts://127.0.0.1:{Core.MqttPort}",
            ["ca"] = Ca,
            ["cert"] = cert ?? Path.Combine(Dir(name), "tls.crt"),
            ["key"] = key ?? Path.Combine(Dir(name), "tls.key"),
            ["clientId"] = clientId,
            ["protocolVersion"] = version,
            ["clean"] = clean,
            ["sessionExpiry"] = clean ? 0 : 3600,
            ["steps"] = steps,
        };
        var r = Run.Process("node", [Path.Combine(Repo.Root, "tests", "interop", "mqtt-peer.mjs")], stdin: task.ToJsonString());
        Assert.True(r.ExitCode == 0, $"mqtt-peer: {r.Stderr}");
        return JsonSerializer.Deserialize(r.Stdout, PeerJson.Default.PeerReport)!;
    }

    internal IReadOnlyList<MqttEvent> Events()
    {
        Database.SqliteVersion(); // sets the SQLite provider
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(Core.StateDir, CoreDatabase.FileName)};Mode=ReadOnly;Pooling=False");
        db.Open();
        return MqttEventLog.List(db);
    }

    /// <summary>Queues a row in the MQTT outbox as `core publish` does, beside the running core.</summary>
    internal long Enqueue(string topic, byte[] message, bool retain)
    {
        using var db = CoreDatabase.Open(Path.Combine(Core.StateDir, CoreDatabase.FileName));
        return MqttOutbox.Enqueue(db, null, topic, message, retain, DateTimeOffset.UtcNow);
    }

    internal long? PublishedAt(long seq)
    {
        using var db = CoreDatabase.Open(Path.Combine(Core.StateDir, CoreDatabase.FileName));
        return MqttOutbox.PublishedAt(db, seq);
    }

    public void Dispose() => Core.Dispose();
}

public sealed record PeerAck(string Cmd, int[] Codes);

public sealed record PeerMessage(string Topic, string Payload);

public sealed record PeerReport(int? Connack, PeerAck[] Acks, PeerMessage[] Messages, bool Closed, string? Error)
{
    public int[] Suback => Acks.Where(a => a.Cmd == "suback").SelectMany(a => a.Codes).ToArray();

    public int[] Puback => Acks.Where(a => a.Cmd == "puback").SelectMany(a => a.Codes).ToArray();
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(PeerReport))]
internal sealed partial class PeerJson : System.Text.Json.Serialization.JsonSerializerContext;

internal static class Steps
{
    public static JsonObject Subscribe(string filter, int qos = 0) => new() { ["op"] = "subscribe", ["filter"] = filter, ["qos"] = qos };

    public static JsonObject Publish(string topic, string payload, int qos = 1, bool retain = false) =>
        new() { ["op"] = "publish", ["topic"] = topic, ["payload"] = payload, ["qos"] = qos, ["retain"] = retain };

    public static JsonObject PublishBytes(string topic, byte[] payload, int qos = 1, bool retain = false) =>
        new() { ["op"] = "publish", ["topic"] = topic, ["payload_b64u"] = Convert.ToBase64String(payload).TrimEnd('=').Replace('+', '-').Replace('/', '_'), ["qos"] = qos, ["retain"] = retain };

    /// <summary>A publish whose payload npm jose signs with <paramref name="jwk"/> (header {alg, kid} of the key unless given).</summary>
    public static JsonObject PublishSigned(string topic, JsonNode jwk, string payload, string serialization = "flattened", JsonObject? header = null, bool retain = false) =>
        new()
        {
            ["op"] = "publish", ["topic"] = topic, ["qos"] = 1, ["retain"] = retain,
            ["sign"] = new JsonObject { ["jwk"] = jwk.DeepClone(), ["payload"] = payload, ["serialization"] = serialization, ["header"] = header },
        };

    public static JsonObject Wait(int ms) => new() { ["op"] = "wait", ["ms"] = ms };
}

/// <summary>A peer process running beside the test, its output collected as it comes; killed if still running at the end.</summary>
internal sealed class LiveProcess : IDisposable
{
    private readonly StringBuilder output = new();

    public LiveProcess(ProcessStartInfo start)
    {
        Process = Process.Start(start)!;
        Process.StandardInput.Close();
        Process.OutputDataReceived += (_, e) => Append(e.Data);
        Process.ErrorDataReceived += (_, e) => Append(e.Data);
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Waits until the output holds <paramref name="fragment"/>; fails after 5 s or when the process has exited without it.</summary>
    public void WaitFor(string fragment)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!Output.Contains(fragment, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline && !Process.HasExited, $"not seen: {fragment}\n{Output}");
            Thread.Sleep(20);
        }
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
            Process.WaitForExit();
        }
        Process.Dispose();
    }

    private void Append(string? line)
    {
        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
