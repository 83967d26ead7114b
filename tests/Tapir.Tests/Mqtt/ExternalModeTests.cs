// `core serve` with core.mqtt_mode = "external" behind Debian's mosquitto (DESIGN §6.4, §6.6; issue
// 12), real processes throughout: the core connects to mosquitto as a client with its server
// certificate, verifies what edges publish on events/up and status/up, writes the event log and
// republishes on verified/ for a core role; it refuses unsigned, foreign-signed and altered
// messages with the reason; its configurations reach a `tapir edge run` agent through mosquitto;
// a message published while the core is stopped is verified once it is back (its session is
// persistent); a `core publish` made while mosquitto is down goes out when mosquitto is back.
// mosquitto runs on the configuration `tapir core mosquitto-config` writes (TLS, require_certificate,
// use_identity_as_username, the ACL as %u patterns and user blocks, the CRL, persistence, room for
// 100,000 queued messages per session), unedited.
using System.Diagnostics;
using System.Net.Http;
using Tapir.Core.Mqtt;
using Tapir.Security.Jose;
using Tapir.Storage;
using Tapir.Tests.Core;
using Tapir.Tests.Edge;

namespace Tapir.Tests.Mqtt;

public sealed class ExternalBrokerWorld : IDisposable
{
    public const string CoreName = "localhost"; // core.name: the CN of the core's certificate, mosquitto's user name for it
    public const string Role = "analyst.example.net";

    private readonly TempDir dir = new();
    private int nodes;

    public ExternalBrokerWorld()
    {
        Core = new CoreProcess();
        MetricsPort = CoreProcess.FreePort();
        int port = CoreProcess.FreePort();
        Core.Environment["TAPIR_CORE__MQTT_MODE"] = "external";
        Core.Environment["TAPIR_CORE__MQTT_URL"] = $"mqtts://127.0.0.1:{port}";
        Core.Environment["TAPIR_CORE__CORE_ROLES"] = Role;
        Core.Environment["TAPIR_CORE__METRICS_LISTEN"] = $"127.0.0.1:{MetricsPort}";
        // mosquitto reads its files as the user mosquitto (as in MosquittoConfigTests): the temp dir may be
        // crossed, the output directory is readable through its group, the data directory is mosquitto's.
        System.IO.File.SetUnixFileMode(dir.Path, (UnixFileMode)Convert.ToInt32("711", 8));
        string conf = dir.File("mosquitto");
        Directory.CreateDirectory(conf);
        Must(Run.Process("chgrp", ["mosquitto", conf]));
        Must(Run.Process("chmod", ["2750", conf]));
        Directory.CreateDirectory(dir.File("data"));
        Must(Run.Process("chown", ["mosquitto", dir.File("data")]));
        Must(Core.Tapir("core", "mosquitto-config", "--out", conf, "--listen", $"127.0.0.1:{port}", "--data", dir.File("data")));
        Broker = new Mosquitto(conf, Core.StateDir, port);
        Broker.Start();
        StartCore();
        RoleState = Enroll(Role);
    }

    private static void Must(ProcessResult r) => Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);

    internal CoreProcess Core { get; }

    internal Mosquitto Broker { get; }

    public int MetricsPort { get; }

    public string RoleState { get; }

    private int connects;

    /// <summary>Starts the core and waits until it is connected to mosquitto (one more time than before).</summary>
    public void StartCore()
    {
        Core.Start();
        WaitForConnects(++connects);
    }

    /// <summary>Waits until the core's log says it connected to mosquitto <paramref name="times"/> times in all.</summary>
    public void WaitForConnects(int times)
    {
        connects = Math.Max(connects, times);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Count(Core.LogText, "msg=\"connected to the external MQTT broker") < times)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the core did not connect to mosquitto:\n{Core.LogText}\n{Broker.LogText}");
            Thread.Sleep(50);
        }
    }

    public int Connects => connects;

    public string NewNode() => $"ext{Interlocked.Increment(ref nodes)}.example.net";

    public string File(string name) => dir.File(name);

    /// <summary>Adds and enrolls a node with the real binary; returns its edge state directory.</summary>
    public string Enroll(string node, string alg = "EdDSA")
    {
        string state = dir.File(node);
        var r = Core.Tapir("edge", "enroll", "--credentials", Core.AddNode(node), "--state", state, "--alg", alg);
        Assert.True(r.ExitCode == 0, r.Stderr + Core.LogText);
        return state;
    }

    internal static int Count(string text, string fragment)
    {
        int count = 0;
        for (int at = text.IndexOf(fragment, StringComparison.Ordinal); at >= 0; at = text.IndexOf(fragment, at + fragment.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    internal IReadOnlyList<MqttEvent> Events()
    {
        Database.SqliteVersion(); // sets the SQLite provider
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(Core.StateDir, CoreDatabase.FileName)};Mode=ReadOnly;Pooling=False");
        db.Open();
        return MqttEventLog.List(db);
    }

    public void Dispose()
    {
        try
        {
            Core.Dispose();
            Broker.Dispose();
        }
        finally
        {
            dir.Dispose();
        }
    }
}

/// <summary>mosquitto_sub in the background (a core role or an edge): the first <c>count</c> messages, then it exits by itself.</summary>
internal sealed class Subscriber : IDisposable
{
    private readonly Process process;
    private readonly StringWriter log = new();

    public Subscriber(int port, string ca, string state, string topic, int count, int seconds)
    {
        process = Service.Start("exec mosquitto_sub \"$@\" </dev/null", ["mosquitto_sub", "-V", "5", "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--cafile", ca, "--cert", Path.Combine(state, "tls.crt"), "--key", Path.Combine(state, "tls.key"), "-q", "1", "-t", topic, "-v",
            "-C", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "-W", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)], new Dictionary<string, string>(), log);
    }

    /// <summary>Waits for mosquitto_sub to end on its own (its count reached: status 0); returns its output lines.</summary>
    public string[] Lines()
    {
        Assert.True(process.WaitForExit(30_000), "mosquitto_sub did not end");
        process.WaitForExit();
        string text;
        lock (log)
        {
            text = log.ToString();
        }
        Assert.True(process.ExitCode == 0, $"mosquitto_sub exited with status {process.ExitCode}: {text}");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            Run.Process("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            process.WaitForExit(10_000);
        }
        process.Dispose();
    }
}

public sealed class ExternalModeTests(ExternalBrokerWorld world) : IClassFixture<ExternalBrokerWorld>
{
    private string Ca => Path.Combine(world.Core.StateDir, "ca.crt");

    private Subscriber SubscribeAsRole(string topic, int count) => new(world.Broker.Port, Ca, world.RoleState, topic, count, 30);

    /// <summary>A file with the JSON signed by the edge's data key exactly as `tapir edge publish` signs it.</summary>
    private string Signed(string state, string json, string name)
    {
        string input = world.File(name + ".json");
        File.WriteAllText(input, json);
        var r = world.Core.Tapir("jws", "sign", "--flattened", "--key", Path.Combine(state, "datakey.jwk"), input);
        Assert.True(r.ExitCode == 0, r.Stderr);
        string output = world.File(name + ".jws");
        File.WriteAllText(output, r.Stdout.Trim());
        return output;
    }

    /// <summary>mosquitto_pub with the edge's own certificate: mosquitto takes it (the ACL allows its topics); the core decides.</summary>
    private void PublishRaw(string state, string topic, string file)
    {
        var r = world.Broker.Publish(topic, file, Path.Combine(state, "tls.crt"), Path.Combine(state, "tls.key"));
        Assert.True(r.ExitCode == 0, $"mosquitto_pub: {r.Stderr}\n{world.Broker.LogText}");
    }

    private ProcessResult EdgePublish(string state, string topic, string json, string name)
    {
        string input = world.File(name + ".json");
        File.WriteAllText(input, json);
        return world.Core.Tapir("edge", "publish", topic, input, "--state", state);
    }

    private static string Get(int port, string path, out int status)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var response = http.GetAsync(path).GetAwaiter().GetResult();
        status = (int)response.StatusCode;
        return response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
    }

    [Fact]
    public void SignedMessagesAreVerifiedAndRepublishedOthersRefusedWithTheReason()
    {
        string a = world.NewNode(), b = world.NewNode();
        string stateA = world.Enroll(a), stateB = world.Enroll(b, "ES256");
        string topic = $"events/up/{a}/new_qname";

        // Unsigned, signed by another node's key, one byte changed: mosquitto takes each, the core refuses each.
        string unsigned = world.File("unsigned.json");
        File.WriteAllText(unsigned, "{\"type\":\"new_qname\",\"qname\":\"unsigned.example.\"}");
        PublishRaw(stateA, topic, unsigned);
        world.Core.AssertLogged($"msg=\"MQTT publish refused: node {a} topic '{topic}': Malformed: not a JWS\"");

        PublishRaw(stateA, topic, Signed(stateB, "{\"type\":\"new_qname\",\"qname\":\"other.example.\"}", "other"));
        world.Core.AssertLogged($"msg=\"MQTT publish refused: node {a} topic '{topic}': NameMismatch: kid is not the node\"");

        string good = Signed(stateA, "{\"type\":\"new_qname\",\"qname\":\"changed.example.\"}", "changed");
        string jws = File.ReadAllText(good);
        int at = jws.IndexOf("\"payload\":\"", StringComparison.Ordinal) + 12;
        string changed = world.File("changed-byte.jws");
        File.WriteAllText(changed, jws[..at] + (jws[at] == 'A' ? 'B' : 'A') + jws[(at + 1)..]);
        PublishRaw(stateA, topic, changed);
        world.Core.AssertLogged($"msg=\"MQTT publish refused: node {a} topic '{topic}': BadSignature\"");

        // Signed but retained: mosquitto keeps it, the core refuses it as the embedded broker does.
        var retained = world.Broker.Publish(topic, good, Path.Combine(stateA, "tls.crt"), Path.Combine(stateA, "tls.key"), retain: true);
        Assert.True(retained.ExitCode == 0, retained.Stderr);
        world.Core.AssertLogged($"msg=\"MQTT publish refused: node {a} topic '{topic}': AclDenied (retained publish, or topic not allowed)\"");

        // Now a signed one through `tapir edge publish`: the first and only message on verified/ for the core role.
        string republished;
        using (var sub = SubscribeAsRole($"verified/events/up/{a}/#", 1))
        {
            Thread.Sleep(500); // mosquitto_sub's SUBSCRIBE
            var r = EdgePublish(stateA, topic, "{\"type\":\"new_qname\",\"qname\":\"good.example.\"}", "good");
            Assert.True(r.ExitCode == 0, r.Stderr);
            string[] lines = sub.Lines();
            Assert.Single(lines);
            Assert.StartsWith($"verified/{topic} {{\"payload\":", lines[0], StringComparison.Ordinal);
            republished = lines[0][($"verified/{topic} ".Length)..];
            Assert.True(Tapir.Security.Jose.JwsParser.TryParse(System.Text.Encoding.UTF8.GetBytes(republished), 1 << 20, out var parsed, out _));
            Assert.Equal("{\"type\":\"new_qname\",\"qname\":\"good.example.\"}", System.Text.Encoding.UTF8.GetString(parsed!.Payload));
        }
        var events = world.Events().Where(e => e.Node == a).ToList();
        Assert.Single(events);
        Assert.Equal(topic, events[0].Topic);
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(republished), events[0].Message);

        // Removed: refused from then on, with the reason.
        var removed = world.Core.Tapir("core", "node", "remove", b);
        Assert.True(removed.ExitCode == 0, removed.Stderr);
        world.Core.AssertLogged($"msg=\"node {b} is removed: its MQTT messages are refused from now on\"");
        PublishRaw(stateB, $"events/up/{b}/new_qname", Signed(stateB, "{\"type\":\"new_qname\",\"qname\":\"removed.example.\"}", "removed"));
        world.Core.AssertLogged($"msg=\"MQTT publish refused: node {b} topic 'events/up/{b}/new_qname': CertificateRevoked: the node is removed\"");
        Assert.DoesNotContain(world.Events(), e => e.Node == b);

        string health = Get(world.MetricsPort, "healthz", out int status);
        Assert.True(status == 200, health);
        Assert.Contains($"broker ok: connected to the external broker mqtts://127.0.0.1:{world.Broker.Port}", health, StringComparison.Ordinal);
        string metrics = Get(world.MetricsPort, "metrics", out _);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!metrics.Contains("\ntapir_mqtt_unacknowledged 0\n", StringComparison.Ordinal)) // every message above done
        {
            Assert.True(DateTime.UtcNow < deadline, metrics);
            Thread.Sleep(50);
            metrics = Get(world.MetricsPort, "metrics", out _);
        }
        Assert.Contains("\ntapir_mqtt_broker_connected 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains("tapir_mqtt_messages_total{outcome=\"refused\",reason=\"BadSignature\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("tapir_mqtt_messages_total{outcome=\"verified\"}", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("MQTT broker listening on", world.Core.LogText, StringComparison.Ordinal);
    }

    [Fact]
    public void NodeConfigurationReachesAnAgentThroughMosquitto()
    {
        string node = world.NewNode();
        string state = world.Enroll(node, "ES256");
        using var agent = new AgentProcess(state, world.Core.Environment);
        agent.AssertLogged("subscribed to");
        string config = world.File($"{node}.config.json");
        File.WriteAllText(config, "{\"resolver\":\"ext\",\"ttl\":30}");
        var r = world.Core.Tapir("core", "node", "configure", node, config, "--wait", "20s");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr + world.Core.LogText);
        agent.AssertLogged($"configuration config from configuration/{node}/config (signed by ");
        agent.AssertLogged($"written to {state}/config/config.json: new");
        Assert.Equal("{\"resolver\":\"ext\",\"ttl\":30}", File.ReadAllText(Path.Combine(state, "config", "config.json")));
        // The agent's signed status went through the core too.
        Assert.Contains(world.Events(), e => e.Node == node && e.Topic == $"status/up/{node}/tapir");
        agent.Stop();
    }

    [Fact]
    public void MessagePublishedWhileTheCoreIsStoppedIsVerifiedWhenItIsBack()
    {
        string node = world.NewNode();
        string state = world.Enroll(node);
        string topic = $"events/up/{node}/new_qname";
        world.Core.Stop(); // SIGTERM, status 0 asserted
        Assert.Contains($"msg=\"disconnected from the external MQTT broker mqtts://127.0.0.1:{world.Broker.Port}\"", world.Core.LogText, StringComparison.Ordinal);
        using var sub = SubscribeAsRole($"verified/{topic}", 1);
        Thread.Sleep(500);
        var r = EdgePublish(state, topic, "{\"type\":\"new_qname\",\"qname\":\"while-away.example.\"}", "away");
        Assert.True(r.ExitCode == 0, r.Stderr); // mosquitto's PUBACK: it holds the message for the core's session
        Assert.DoesNotContain(world.Events(), e => e.Node == node);
        string notify = world.File($"notify-{node}");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(notify));
        socket.ReceiveTimeout = 20_000;
        world.Core.Environment["NOTIFY_SOCKET"] = notify;
        try
        {
            world.StartCore();
        }
        finally
        {
            world.Core.Environment.Remove("NOTIFY_SOCKET");
        }
        var buffer = new byte[512];
        string secret = File.ReadAllText(Path.Combine(world.Core.StateDir, "mqtt-client-id")).TrimEnd('\n');
        Assert.Equal($"READY=1\nSTATUS=listening on 127.0.0.1:{world.Core.Port} (API); MQTT through the external broker mqtts://127.0.0.1:{world.Broker.Port} as client {ExternalBrokerWorld.CoreName}-core-{secret[..4]}…",
            System.Text.Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer)));
        world.Core.AssertLogged("(session resumed, broker receive maximum ");
        string[] lines = sub.Lines();
        Assert.Single(lines);
        Assert.StartsWith($"verified/{topic} ", lines[0], StringComparison.Ordinal);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!world.Events().Any(e => e.Node == node) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }
        Assert.Single(world.Events(), e => e.Node == node && e.Topic == topic);
    }

    [Fact]
    public async Task NothingIsLostWhenTheCoreIsKilledBetweenReceiveAndCommit()
    {
        // A crash test (SIGKILL): the test holds the database's write lock, so the core receives and verifies
        // messages but cannot commit them (the event-log lag shows them waiting); it is killed there. Nothing
        // it had was acknowledged, so mosquitto sends it all again when the core is back: every message ends
        // up in the event log.
        string node = world.NewNode();
        string state = world.Enroll(node);
        string topic = $"events/up/{node}/new_qname";
        Assert.True(Tapir.Security.Jose.JwkParser.TryParse(File.ReadAllBytes(Path.Combine(state, "datakey.jwk")), out var key, out _));
        const int count = 2000;
        var lines = Enumerable.Range(0, count).Select(i => Tapir.Tests.Edge.EdgeBroker.Sign($"{{\"type\":\"new_qname\",\"qname\":\"q{i}.example.\"}}", key!)).ToList();
        Database.SqliteVersion(); // sets the SQLite provider
        using (var hold = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(world.Core.StateDir, CoreDatabase.FileName)};Pooling=False"))
        {
            hold.Open();
            using (var begin = hold.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                begin.ExecuteNonQuery();
            }
            var published = Run.Process("mosquitto_pub", ["-V", "5", "-h", "127.0.0.1", "-p", world.Broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--cafile", Ca, "--cert", Path.Combine(state, "tls.crt"), "--key", Path.Combine(state, "tls.key"), "-q", "1", "-t", topic, "-l"], stdin: string.Join("\n", lines) + "\n");
            Assert.True(published.ExitCode == 0, published.Stderr);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!System.Text.RegularExpressions.Regex.IsMatch(Get(world.MetricsPort, "metrics", out _), "\ntapir_event_log_lag [1-9]"))
            {
                Assert.True(DateTime.UtcNow < deadline, "no message waiting for the event log\n" + world.Core.LogText);
                await Task.Delay(50);
            }
            world.Core.Kill();
        }
        Assert.DoesNotContain(world.Events(), e => e.Node == node);
        world.StartCore();
        var until = DateTime.UtcNow.AddSeconds(30);
        HashSet<string> seen;
        while ((seen = world.Events().Where(e => e.Node == node).Select(e => System.Text.Encoding.UTF8.GetString(e.Message)).ToHashSet()).Count < count)
        {
            Assert.True(DateTime.UtcNow < until, $"{seen.Count} of {count} in the event log\n{world.Core.LogText}");
            await Task.Delay(50);
        }
        Assert.True(seen.SetEquals(lines), "the event log holds exactly the published messages");
    }

    [Fact]
    public void VerifiedKeepsTheOrderTheBrokerDeliveredIn()
    {
        // 300 signed messages on one topic, one mosquitto_pub connection (-l: one message per line, QoS 1):
        // the core role sees them on verified/ in the order they were published.
        string node = world.NewNode();
        string state = world.Enroll(node);
        Assert.True(JwkParser.TryParse(File.ReadAllBytes(Path.Combine(state, "datakey.jwk")), out var key, out _));
        const int count = 300;
        string topic = $"events/up/{node}/order";
        string lines = world.File($"order-{node}.txt");
        File.WriteAllLines(lines, Enumerable.Range(0, count).Select(i => JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes($"{{\"n\":{i}}}"), key)));
        using var sub = SubscribeAsRole($"verified/{topic}", count);
        Thread.Sleep(300); // the subscription is in place before the first publish
        var r = Run.Process("sh", ["-c", "exec mosquitto_pub \"$@\" < \"$0\"", lines, "-V", "5", "-h", "127.0.0.1", "-p", world.Broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--cafile", Ca, "--cert", Path.Combine(state, "tls.crt"), "--key", Path.Combine(state, "tls.key"), "-q", "1", "-t", topic, "-l"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var seen = sub.Lines().Select(l =>
        {
            Assert.True(JwsParser.TryParse(System.Text.Encoding.UTF8.GetBytes(l[(l.IndexOf(' ', StringComparison.Ordinal) + 1)..]), 1 << 20, out var parsed, out _));
            return System.Text.Json.JsonDocument.Parse(parsed!.Payload).RootElement.GetProperty("n").GetInt32();
        }).ToList();
        Assert.Equal(Enumerable.Range(0, count), seen);
    }

    [Fact]
    public void AMessageTooLargeToRepublishIsRefusedAndAcknowledgedNotRetriedForever()
    {
        // mosquitto takes an edge PUBLISH up to its max_packet_size (mqtt.max_packet_bytes, 524288); under
        // verified/ the same message is 9 bytes longer. Refused as TooLarge and acknowledged, it does not
        // come back at every connection, and the core stays connected for everyone else.
        string node = world.NewNode();
        string state = world.Enroll(node);
        Assert.True(JwkParser.TryParse(File.ReadAllBytes(Path.Combine(state, "datakey.jwk")), out var key, out _));
        string topic = $"events/up/{node}/big";
        const int limit = 524_288;
        string jws = "";
        for (int pad = limit - 1000; ; pad++)
        {
            jws = JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes($"{{\"p\":\"{new string('x', pad * 3 / 4)}\"}}"), key);
            long edgePacket = ExternalBroker.RepublishedPacketBytes(topic, jws.Length) - MqttBroker.VerifiedPrefix.Length;
            if (edgePacket > limit - MqttBroker.VerifiedPrefix.Length + 1)
            {
                Assert.True(edgePacket <= limit, $"no size found in the window: {edgePacket}");
                break;
            }
        }
        string file = world.File($"big-{node}.jws");
        File.WriteAllText(file, jws);
        int connects = world.Connects;
        PublishRaw(state, topic, file);
        world.Core.AssertLogged($"topic '{topic}': TooLarge: on verified/… it would be a ");
        string small = Signed(state, "{\"after\":\"the big one\"}", $"small-{node}");
        using (var sub = SubscribeAsRole($"verified/events/up/{node}/small", 1))
        {
            Thread.Sleep(300);
            PublishRaw(state, $"events/up/{node}/small", small);
            Assert.Single(sub.Lines());
        }
        Assert.Equal(connects, world.Connects);
        Assert.DoesNotContain(world.Events(), e => e.Node == node && e.Topic == topic);
        Assert.Equal(1, ExternalBrokerWorld.Count(world.Core.LogText, $"topic '{topic}': TooLarge"));
    }

    [Fact]
    public void ABacklogOverTheHeldLimitIsTakenInPortionsInOrderWithNothingLost()
    {
        // While the core is stopped one edge queues 220 signed messages of about 400 KB at mosquitto (about 88 MB,
        // over ExternalBroker.HeldBytesLimit). The restarted core takes them up to the limit, reconnects for the
        // rest, and so on: every one is stored once, in order, and it never holds more than the limit allows.
        string node = world.NewNode();
        string state = world.Enroll(node);
        Assert.True(JwkParser.TryParse(File.ReadAllBytes(Path.Combine(state, "datakey.jwk")), out var key, out _));
        const int count = 220;
        string topic = $"events/up/{node}/backlog";
        string pad = new('x', 300_000);
        string lines = world.File($"backlog-{node}.txt");
        var messages = Enumerable.Range(0, count).Select(i => JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes($"{{\"n\":{i},\"pad\":\"{pad}\"}}"), key)).ToList();
        File.WriteAllLines(lines, messages);
        Assert.True(new FileInfo(lines).Length > ExternalBroker.HeldBytesLimit);
        long most = ExternalBroker.HeldBytesLimit / (messages.Min(m => m.Length) + topic.Length) + 1; // held at once at most
        world.Core.Stop(); // SIGTERM, status 0 asserted
        var r = Run.Process("sh", ["-c", "exec mosquitto_pub \"$@\" < \"$0\"", lines, "-V", "5", "-h", "127.0.0.1", "-p", world.Broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--cafile", Ca, "--cert", Path.Combine(state, "tls.crt"), "--key", Path.Combine(state, "tls.key"), "-q", "1", "-t", topic, "-l"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        world.StartCore();
        long peakHeld = 0;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        List<int> stored;
        while ((stored = StoredNumbers(node, topic)).Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{stored.Count} of {count} stored\n{world.Core.LogText}");
            string metrics = Get(world.MetricsPort, "metrics", out _);
            const string gauge = "\ntapir_mqtt_unacknowledged ";
            int at = metrics.IndexOf(gauge, StringComparison.Ordinal);
            Assert.True(at >= 0, metrics);
            peakHeld = Math.Max(peakHeld, long.Parse(metrics[(at + gauge.Length)..metrics.IndexOf('\n', at + 1)], System.Globalization.CultureInfo.InvariantCulture));
            Thread.Sleep(20);
        }
        Assert.Equal(Enumerable.Range(0, count), stored);
        Assert.Contains("held: taking no more until they are done, then reconnecting", world.Core.LogText, StringComparison.Ordinal);
        Assert.Contains("reconnecting to the external broker for the ones not taken", world.Core.LogText, StringComparison.Ordinal);
        // Sampled every 20 ms (tapir_mqtt_unacknowledged: messages taken and not yet done); all 220 at once without the limit.
        Assert.True(peakHeld > 0 && peakHeld <= most, $"held at most {peakHeld}, the limit allows {most}");
    }

    private List<int> StoredNumbers(string node, string topic) =>
        [.. world.Events().Where(e => e.Node == node && e.Topic == topic).Select(e =>
        {
            Assert.True(JwsParser.TryParse(e.Message, 1 << 20, out var parsed, out _));
            return System.Text.Json.JsonDocument.Parse(parsed!.Payload).RootElement.GetProperty("n").GetInt32();
        })];

    [Fact]
    public void AnEdgeCannotNameTheCoresSecretClientId()
    {
        // Mosquitto does not bind client ids to certificates, so the core's id carries 128 secret bits
        // (CoreClientId): an edge connecting with a clean start as `<core.name>-core`, the id an
        // earlier version used, disturbs nothing, and the secret is in no log.
        string path = Path.Combine(world.Core.StateDir, "mqtt-client-id");
        string secret = File.ReadAllText(path).TrimEnd('\n');
        Assert.Matches("^[0-9a-f]{32}$", secret);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        string node = world.NewNode();
        string state = world.Enroll(node);
        int before = world.Connects;
        int drops = ExternalBrokerWorld.Count(world.Core.LogText, "msg=\"disconnected from the external MQTT broker");
        foreach (string id in new[] { $"{ExternalBrokerWorld.CoreName}-core", ExternalBrokerWorld.CoreName })
        {
            var r = Run.Process("mosquitto_sub", ["-V", "5", "-h", "127.0.0.1", "-p", world.Broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--cafile", Ca, "--cert", Path.Combine(state, "tls.crt"), "--key", Path.Combine(state, "tls.key"), "-i", id,
                "-t", $"observations/down/{Guid.NewGuid():N}", "-C", "1", "-W", "2"]);
            Assert.True(r.ExitCode != 0, r.Stdout); // nothing is published there: it waited 2 s and timed out
        }
        Thread.Sleep(500);
        Assert.Equal(before, world.Connects);
        Assert.Equal(drops, ExternalBrokerWorld.Count(world.Core.LogText, "msg=\"disconnected from the external MQTT broker"));
        string health = Get(world.MetricsPort, "healthz", out int status);
        Assert.True(status == 200, health);
        Assert.Contains("broker ok: connected to the external broker", health, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, world.Core.LogText, StringComparison.Ordinal);
        Assert.Contains($"{ExternalBrokerWorld.CoreName}-core-{secret[..4]}…", world.Core.LogText, StringComparison.Ordinal);
    }

    [Fact]
    public void CorePublishWhileMosquittoIsDownIsPublishedWhenItIsBack()
    {
        string node = world.NewNode();
        string state = world.Enroll(node);
        int before = world.Connects;
        int dropped = ExternalBrokerWorld.Count(world.Core.LogText, "level=warning msg=\"disconnected from the external MQTT broker");
        world.Broker.Stop(); // SIGTERM, status 0 asserted
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (ExternalBrokerWorld.Count(world.Core.LogText, "level=warning msg=\"disconnected from the external MQTT broker") == dropped)
        {
            Assert.True(DateTime.UtcNow < deadline, world.Core.LogText);
            Thread.Sleep(50);
        }
        string health = Get(world.MetricsPort, "healthz", out int status);
        Assert.True(status == 503, health);
        Assert.Contains("broker not connected: external broker", health, StringComparison.Ordinal);
        Assert.Contains("\ntapir_mqtt_broker_connected 0\n", Get(world.MetricsPort, "metrics", out _), StringComparison.Ordinal);

        string json = world.File("while-down.json");
        string topic = $"config/down/ext-{Guid.NewGuid():N}";
        File.WriteAllText(json, "{\"while\":\"mosquitto was down\"}");
        var r = world.Core.Tapir("core", "publish", "--retain", topic, json, "--wait", "1s");
        Assert.True(r.ExitCode == 3, $"exit {r.ExitCode}: {r.Stdout}{r.Stderr}"); // queued, not published

        world.Broker.Start(); // no persistence: a retained message there now can only be the core's new publish
        world.WaitForConnects(before + 1);
        world.Core.AssertLogged($"on '{topic}' (retained)");
        using var sub = new Subscriber(world.Broker.Port, Ca, state, topic, 1, 20);
        string[] lines = sub.Lines();
        Assert.Single(lines);
        string jws = lines[0][(topic.Length + 1)..];
        Assert.True(Tapir.Security.Jose.JwsParser.TryParse(System.Text.Encoding.UTF8.GetBytes(jws), 1 << 20, out var parsed, out _));
        Assert.Equal("{\"while\":\"mosquitto was down\"}", System.Text.Encoding.UTF8.GetString(parsed!.Payload));
        health = Get(world.MetricsPort, "healthz", out status);
        Assert.True(status == 200, health);
    }
}
