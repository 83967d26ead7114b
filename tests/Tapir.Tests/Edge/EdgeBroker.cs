// The world of the edge agent tests (issue 12): a real `tapir core serve` (enrollment, renewal),
// Debian's mosquitto as the MQTT broker on TLS with the core's certificate (the enrollment answer's
// mqtt_broker points at it), and a core role enrolled like an edge whose certificate publishes
// "from the core" with mosquitto_pub. Messages from the core are signed with the core data key
// (core-data.jwk) exactly as `tapir core publish` signs them: flattened JWS, protected {"alg","kid"}.
using Tapir.Security.Jose;
using Tapir.Tests.Core;

namespace Tapir.Tests.Edge;

public sealed class EdgeBroker : IDisposable
{
    public const string CoreRole = "core-pub.example.net";

    private readonly TempDir dir = new();
    private int nodes;

    public EdgeBroker()
    {
        Core = new CoreProcess();
        Broker = new Mosquitto(dir.Path, Core.StateDir, CoreRole);
        Core.Environment["TAPIR_CORE__MQTT_URL"] = $"mqtts://127.0.0.1:{Broker.Port}";
        Core.Environment["TAPIR_CORE__MQTT_LISTEN"] = $"127.0.0.1:{CoreProcess.FreePort()}";
        Core.Environment["TAPIR_CORE__CORE_ROLES"] = CoreRole;
        Core.Start();
        Broker.Start();
        RoleState = Enroll(CoreRole, "ES256");
        Assert.True(JwkParser.TryParse(System.IO.File.ReadAllBytes(Path.Combine(Core.StateDir, "core-data.jwk")), out var key, out _));
        CoreKey = key;
    }

    internal CoreProcess Core { get; }

    internal Mosquitto Broker { get; }

    public Jwk CoreKey { get; }

    public string RoleState { get; }

    /// <summary>A new node name for each test, so no test sees another's node topics.</summary>
    public string NewNode() => $"edge{Interlocked.Increment(ref nodes)}.example.net";

    public string File(string name) => dir.File(name);

    /// <summary>Adds and enrolls a node with the real binary; returns its edge state directory.</summary>
    public string Enroll(string node, string alg = "EdDSA")
    {
        string state = dir.File(node);
        var r = Core.Tapir("edge", "enroll", "--credentials", Core.AddNode(node), "--state", state, "--alg", alg);
        Assert.True(r.ExitCode == 0, r.Stderr + Core.LogText);
        return state;
    }

    internal AgentProcess StartAgent(string state, params (string Key, string Value)[] environment)
    {
        var env = new Dictionary<string, string>(Core.Environment);
        foreach (var (k, v) in environment)
        {
            env[k] = v;
        }
        return new AgentProcess(state, env);
    }

    public static string Sign(string json, Jwk key) => JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(json), key);

    /// <summary>Publishes a message as the core role with mosquitto_pub; the broker must accept it.</summary>
    public void PublishAsCore(string topic, string message, bool retain = false)
    {
        string file = dir.File($"message-{Guid.NewGuid():N}");
        System.IO.File.WriteAllText(file, message);
        var r = Broker.Publish(topic, file, Path.Combine(RoleState, "tls.crt"), Path.Combine(RoleState, "tls.key"), retain);
        Assert.True(r.ExitCode == 0, $"mosquitto_pub: {r.Stderr}\n{Broker.LogText}");
    }

    public void Dispose()
    {
        try
        {
            Broker.Dispose();
            Core.Dispose();
        }
        finally
        {
            dir.Dispose();
        }
    }
}
