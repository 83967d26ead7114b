// The proofs of issue 12 against the EMBEDDED broker of `tapir core serve`, all real processes: three
// `tapir edge run` agents with Ed25519, Ed448 and ES256 data keys; the core SIGKILLed and restarted
// under them; a JWKS rotation and retirement with `tapir core key rotate|retire`; forgeries from a
// broker peer that may publish on the configuration topics; renewal of a one-hour certificate and
// the reconnect with it; a manual `tapir edge renew` beside a running agent, whose certificate the
// agent takes into use at its next reconnect. Part of issue 13 too: the agent's own /metrics and /healthz
// (edge.metrics_listen), its counters checked against what the test did.
// (EdgeAgentTests covers the agent's message handling in detail against Debian's mosquitto.)
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tapir.Security.Jose;
using Tapir.Tests.Core;
using Tapir.Tests.Metrics;

namespace Tapir.Tests.Edge;

public sealed class AgentEndToEndTests
{
    /// <summary>A core role the broker lets publish on the configuration topics: it can route anything there, sign nothing as the core.</summary>
    private const string Forger = "forger.example.net";

    private static readonly (string Node, string[] Alg)[] Edges =
    [
        ("e2e1.example.net", ["--alg", "EdDSA", "--crv", "Ed25519"]),
        ("e2e2.example.net", ["--alg", "EdDSA", "--crv", "Ed448"]),
        ("e2e3.example.net", ["--alg", "ES256"]),
    ];

    [Fact]
    public void AfterTheCoreIsKilledAllThreeReconnectAndTakeTheNextConfiguration()
    {
        using var world = new World();
        var agents = world.StartAgents();
        try
        {
            world.ConfigureEach("{\"round\":1}");
            foreach (var (node, state, agent) in agents)
            {
                agent.AssertLogged($"configuration config from configuration/{node}/config (signed by {world.Kid}) written to {state}/config/config.json: new");
            }

            world.Core.Kill();
            foreach (var (_, _, agent) in agents)
            {
                agent.AssertLogged($"disconnected from the broker mqtts://127.0.0.1:{world.Core.MqttPort}/");
                agent.AssertLogged($"cannot connect to the broker mqtts://127.0.0.1:{world.Core.MqttPort}/ (attempt 2:");
            }
            world.Core.Start(); // the same state directory and ports
            foreach (var (node, _, agent) in agents)
            {
                agent.AssertLogged("connected to the broker", times: 2, seconds: 30);
                agent.AssertLogged("subscribed to", times: 2);
                world.Core.AssertLogged($"MQTT client '{node}-tapir' connected: node {node}");
            }

            world.ConfigureEach("{\"round\":2}");
            world.Publish("config/down/resolver", "{\"forward\":\"192.0.2.53\"}");
            foreach (var (node, state, agent) in agents)
            {
                agent.AssertLogged($"configuration config from configuration/{node}/config (signed by {world.Kid}) written to {state}/config/config.json: changed round");
                Assert.Equal("{\"round\":2}", File.ReadAllText(Path.Combine(state, "config", "config.json")));
                agent.AssertLogged($"configuration resolver from config/down/resolver (signed by {world.Kid}) written to {state}/config/resolver.json: new");
                Assert.Equal("{\"forward\":\"192.0.2.53\"}", File.ReadAllText(Path.Combine(state, "config", "resolver.json")));
            }
        }
        finally
        {
            World.StopAll(agents);
        }
    }

    [Fact]
    public void ForgeriesAreIgnoredAndARotatedThenRetiredKeyIsHonouredThenRefused()
    {
        using var world = new World();
        var agents = world.StartAgents();
        try
        {
            string oldKid = world.Kid;
            world.Publish("config/down/policy", "{\"policy\":1}");
            foreach (var (_, state, agent) in agents)
            {
                agent.AssertLogged($"configuration policy from config/down/policy (signed by {oldKid}) written to {state}/config/policy.json: new");
            }
            string genuine = File.ReadAllText(Path.Combine(agents[0].State, "config", "policy.jws"));

            // Forgeries routed by the broker: a changed byte of a genuine message, the core's kid on another key.
            world.PublishAsForger("config/down/policy", ChangeOneByteOfThePayload(genuine));
            world.PublishAsForger("config/down/policy", Sign("{\"policy\":666}", JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed25519", oldKid)));
            foreach (var (_, state, agent) in agents)
            {
                agent.AssertLogged("message on config/down/policy ignored: not verified with the trusted JWKS: BadSignature (1 refused so far)");
                agent.AssertLogged("message on config/down/policy ignored: not verified with the trusted JWKS: BadSignature (2 refused so far)");
                Assert.Equal("{\"policy\":1}", File.ReadAllText(Path.Combine(state, "config", "policy.json")));
                Assert.Equal(genuine, File.ReadAllText(Path.Combine(state, "config", "policy.jws")));
            }

            // The old key is kept aside the way a thief would keep it (retire deletes the core's copy).
            string stolen = world.Core.File("stolen-old-key.jwk");
            File.Copy(Path.Combine(world.Core.StateDir, "core-data.jwk"), stolen);

            var rotate = world.Core.Tapir("core", "key", "rotate");
            Assert.True(rotate.ExitCode == 0, rotate.Stderr + rotate.Stdout);
            string newKid = rotate.Stdout.Split("core data key ")[1].Split(' ')[0];
            Assert.NotEqual(oldKid, newKid);
            foreach (var (_, state, agent) in agents)
            {
                agent.AssertLogged($"trusted JWKS replaced from config/down/jwks (signed by {oldKid}): keys {oldKid}, {newKid}; before: {oldKid}");
                Assert.Equal([oldKid, newKid], TrustedKids(state));
            }
            world.Publish("config/down/policy", "{\"policy\":2}");
            foreach (var (_, state, agent) in agents)
            {
                agent.AssertLogged($"configuration policy from config/down/policy (signed by {newKid}) written to {state}/config/policy.json: changed policy");
                Assert.Equal("{\"policy\":2}", File.ReadAllText(Path.Combine(state, "config", "policy.json")));
            }

            var retire = world.Core.Tapir("core", "key", "retire", oldKid);
            Assert.True(retire.ExitCode == 0, retire.Stderr + retire.Stdout);
            Assert.False(File.Exists(Path.Combine(world.Core.StateDir, "core-data.jwk")));
            foreach (var (_, state, agent) in agents)
            {
                agent.AssertLogged($"trusted JWKS replaced from config/down/jwks (signed by {newKid}): keys {newKid}; before: {oldKid}, {newKid}");
                Assert.Equal([newKid], TrustedKids(state));
            }

            // The retired key still makes a well-formed signature with the real CLI; nobody trusts it now.
            string payload = world.Core.File("old-policy.json");
            File.WriteAllText(payload, "{\"policy\":\"from the retired key\"}");
            var signed = world.Core.Tapir("jws", "sign", "--key", stolen, "--flattened", payload);
            Assert.True(signed.ExitCode == 0, signed.Stderr);
            world.PublishAsForger("config/down/policy", signed.Stdout.TrimEnd('\n'));
            foreach (var (_, state, agent) in agents)
            {
                agent.AssertLogged("message on config/down/policy ignored: not verified with the trusted JWKS: KeyNotFound (3 refused so far)");
                Assert.Equal("{\"policy\":2}", File.ReadAllText(Path.Combine(state, "config", "policy.json")));
            }
        }
        finally
        {
            World.StopAll(agents);
        }
    }

    [Fact]
    public async Task AOneHourCertificateIsRenewedEarlyAndTheBrokerSeesTheNewSerial()
    {
        using var world = new World();
        int metricsPort = CoreProcess.FreePort();
        var (node, alg) = Edges[2];
        string state = world.Enroll(node, alg);
        using var first = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(state, "tls.crt")));
        // notBefore is five minutes back (CaProfile), notAfter one hour after issuance.
        Assert.Equal(TimeSpan.FromMinutes(65), first.NotAfter - first.NotBefore);
        Assert.InRange(first.NotAfter.ToUniversalTime() - DateTime.UtcNow, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(60));
        string firstSerial = Convert.ToHexStringLower(first.SerialNumberBytes.Span);
        using var agent = world.StartAgent(state, ("TAPIR_EDGE__RENEW_AFTER", "5s"), ("TAPIR_EDGE__METRICS_LISTEN", $"127.0.0.1:{metricsPort}"));
        agent.AssertLogged($"connected to the broker mqtts://127.0.0.1:{world.Core.MqttPort}/ as {node}-tapir with certificate serial {firstSerial} (session new)");
        world.Core.AssertLogged($"MQTT client '{node}-tapir' connected: node {node}, certificate serial {firstSerial}");

        agent.AssertLogged($"renewed {node}: serial", seconds: 15);
        agent.AssertLogged("reconnecting to take the renewed certificate (serial ");
        string serial = agent.LogText.Split("reconnecting to take the renewed certificate (serial ")[1].Split(')')[0];
        Assert.NotEqual(firstSerial, serial);
        agent.AssertLogged($"with certificate serial {serial} (session resumed)");
        world.Core.AssertLogged($"MQTT client '{node}-tapir' connected: node {node}, certificate serial {serial}");
        using var renewed = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(state, "tls.crt")));
        Assert.Equal((serial, TimeSpan.FromMinutes(65)), (Convert.ToHexStringLower(renewed.SerialNumberBytes.Span), renewed.NotAfter - renewed.NotBefore));

        // The agent's own metrics, before the next renewal (5 s after this one).
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}/") };
        var samples = PrometheusGrammar.Check(await http.GetStringAsync("metrics"));
        Assert.Equal(1, samples["tapir_edge_renewals_total{outcome=\"renewed\"}"]);
        Assert.Equal(2, samples["tapir_edge_mqtt_connects_total"]);
        Assert.InRange(samples[$"tapir_edge_certificate_expiry_seconds{{serial=\"{serial}\"}}"], 3500, 3600);

        // Messages still flow on the new certificate, both ways: the status published on the reconnect
        // was accepted (a session resumed under the old serial had it refused once that serial was
        // superseded), and a configuration arrives.
        agent.AssertLogged($"status published on status/up/{node}/tapir", times: 2);
        world.ConfigureOne(node, "{\"after\":\"renewal\"}");
        agent.AssertLogged($"configuration config from configuration/{node}/config (signed by {world.Kid}) written to {state}/config/config.json: new");
        Assert.DoesNotContain("MQTT publish refused", world.Core.LogText, StringComparison.Ordinal);
        agent.Stop();
    }

    [Fact]
    public async Task AManualRenewalWhileTheAgentRunsIsTakenIntoUseAtTheNextReconnect()
    {
        // `tapir edge renew` beside a running agent revokes the certificate the agent holds; the
        // broker drops it, and the agent must connect again with the pair the renewal wrote.
        using var world = new World();
        int metricsPort = CoreProcess.FreePort();
        var (node, alg) = Edges[2];
        string state = world.Enroll(node, alg);
        string firstSerial = SerialOnDisk(state);
        using var agent = world.StartAgent(state, ("TAPIR_EDGE__STATUS_INTERVAL", "2s"), ("TAPIR_EDGE__METRICS_LISTEN", $"127.0.0.1:{metricsPort}"));
        agent.AssertLogged($"with certificate serial {firstSerial} (session new)");
        world.Core.AssertLogged($"MQTT client '{node}-tapir' connected: node {node}, certificate serial {firstSerial}");
        agent.AssertLogged($"status published on status/up/{node}/tapir");

        var r = world.Core.Tapir("edge", "renew", "--state", state);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        string serial = SerialOnDisk(state);
        Assert.NotEqual(firstSerial, serial);
        Assert.StartsWith($"renewed {node}: serial ", r.Stdout, StringComparison.Ordinal);
        var renewedAt = DateTimeOffset.UtcNow;

        agent.AssertLogged($"level=info msg=\"certificate serial {serial} from {state} taken into use (renewed outside the agent; it replaces serial {firstSerial})\"", seconds: 15);
        agent.AssertLogged($"connected to the broker mqtts://127.0.0.1:{world.Core.MqttPort}/ as {node}-tapir with certificate serial {serial} (session ");
        world.Core.AssertLogged($"MQTT client '{node}-tapir' connected: node {node}, certificate serial {serial}");
        Assert.InRange(DateTimeOffset.UtcNow - renewedAt, TimeSpan.Zero, TimeSpan.FromSeconds(15));
        // The agent's renewal loop schedules its next renewal from the new certificate.
        agent.AssertLogged($"renewal of certificate serial {serial} is due at ");

        // A status signed after the reconnect, naming the new serial, verified and stored by the core.
        await WaitForStatusWithSerial(world, node, serial);
        world.ConfigureOne(node, "{\"after\":\"manual renewal\"}");
        agent.AssertLogged($"configuration config from configuration/{node}/config (signed by {world.Kid}) written to {state}/config/config.json: new");

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}/") };
        var samples = PrometheusGrammar.Check(await http.GetStringAsync("metrics"));
        Assert.InRange(samples[$"tapir_edge_certificate_expiry_seconds{{serial=\"{serial}\"}}"], 3500, 3600);
        Assert.DoesNotContain(samples.Keys, k => k.Contains(firstSerial, StringComparison.Ordinal));
        Assert.Equal(1, samples["tapir_edge_mqtt_connected"]);
        Assert.Matches($"^broker connected\ncertificate ok: serial {serial}, 3[5-6][0-9][0-9]s left\n$", await http.GetStringAsync("healthz"));
        agent.Stop();
    }

    [Fact]
    public async Task ARenewalWaitsForTheOneHoldingRenewLock()
    {
        // renew.lock is an exclusive flock; here the test process holds it, as a running renewal would.
        using var world = new World();
        var (node, alg) = Edges[0];
        string state = world.Enroll(node, alg);
        string lockFile = Path.Combine(state, "renew.lock");
        var first = world.Core.Tapir("edge", "renew", "--state", state);
        Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(lockFile));
        string firstSerial = SerialOnDisk(state);
        using (new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var refused = world.Core.Tapir("edge", "renew", "--state", state, "--timeout", "1s", "--attempts", "1");
            Assert.True(refused.ExitCode != 0, refused.Stdout);
            Assert.Contains($"another renewal of {state} is still in progress after 1s ({lockFile} is locked); keeping the current certificate.", refused.Stderr, StringComparison.Ordinal);
            Assert.Equal(firstSerial, SerialOnDisk(state));
        }

        var held = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        Task<ProcessResult> renewing;
        try
        {
            renewing = Task.Run(() => world.Core.Tapir("edge", "renew", "--state", state, "--timeout", "30s"));
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.False(renewing.IsCompleted, "the renewal did not wait for the lock");
            Assert.Equal(firstSerial, SerialOnDisk(state));
        }
        finally
        {
            held.Dispose(); // released: the waiting renewal goes on
        }
        var waited = await renewing;
        Assert.True(waited.ExitCode == 0, waited.Stderr + waited.Stdout);
        Assert.Contains($"waiting for another renewal of {state} to finish ({lockFile} is locked)", waited.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(firstSerial, SerialOnDisk(state));
    }

    private static string SerialOnDisk(string state)
    {
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(state, "tls.crt")));
        return Convert.ToHexStringLower(certificate.SerialNumberBytes.Span);
    }

    /// <summary>Waits (10 s at most) for a status of the node in the core's event log, which holds only verified messages, that names the serial.</summary>
    private static async Task WaitForStatusWithSerial(World world, string node, string serial)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var seen = new List<string>();
        while (DateTime.UtcNow < deadline)
        {
            Tapir.Storage.Database.SqliteVersion(); // sets the SQLite provider
            using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(world.Core.StateDir, Tapir.Storage.CoreDatabase.FileName)};Mode=ReadOnly;Pooling=False"))
            {
                db.Open();
                seen = Tapir.Storage.MqttEventLog.List(db).Where(e => e.Node == node && e.Topic == $"status/up/{node}/tapir")
                    .Select(e => StatusSerial(e.Message)).ToList();
            }
            if (seen.Contains(serial))
            {
                return;
            }
            await Task.Delay(200);
        }
        Assert.Fail($"no verified status of {node} with certificate serial {serial} within 10 s; serials seen: {string.Join(", ", seen)}\n{world.Core.LogText}");
    }

    private static string StatusSerial(byte[] jws)
    {
        using var doc = JsonDocument.Parse(jws);
        Assert.True(Tapir.Security.Encoding.Base64Url.TryDecode(doc.RootElement.GetProperty("payload").GetString()!, out var payload));
        using var status = JsonDocument.Parse(payload);
        return status.RootElement.GetProperty("certificate_serial").GetString()!;
    }

    [Fact]
    public async Task TheAgentsMetricsAndHealthCountWhatItDid()
    {
        using var world = new World();
        int metricsPort = CoreProcess.FreePort();
        var (node, alg) = Edges[2];
        string state = world.Enroll(node, alg);
        using var agent = world.StartAgent(state, ("TAPIR_EDGE__METRICS_LISTEN", $"127.0.0.1:{metricsPort}"));
        agent.AssertLogged($"metrics and health on http://127.0.0.1:{metricsPort}/metrics and /healthz");
        agent.AssertLogged($"status published on status/up/{node}/tapir");

        world.ConfigureOne(node, "{\"n\":1}");
        agent.AssertLogged($"written to {state}/config/config.json: new");
        string topic = $"configuration/{node}/config";
        world.PublishAsForger(topic, Sign("{\"n\":2}", JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed25519", world.Kid)));
        world.PublishAsForger(topic, Sign("{\"n\":3}", JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed25519", "stranger")));
        world.PublishAsForger(topic, "{\"unsigned\":true}");
        // Signed with the core's own key (read from its state directory) but nothing the agent may act on.
        Assert.True(JwkParser.TryParse(File.ReadAllBytes(Path.Combine(world.Core.StateDir, "core-data.jwk")), out var coreKey, out _));
        world.PublishAsForger("config/down/a/b", Sign("{\"deep\":1}", coreKey));
        world.PublishAsForger("config/down/notjson", Sign("not json", coreKey));
        world.PublishAsForger("config/down/jwks", Sign("{\"keys\":[]}", coreKey));
        agent.AssertLogged("(6 refused so far)");

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}/") };
        var response = await http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        string text = await response.Content.ReadAsStringAsync();
        var samples = PrometheusGrammar.Check(text);
        Assert.True(JwkParser.TryParse(File.ReadAllBytes(Path.Combine(state, "datakey.jwk")), out var dataKey, out _));
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(state, "tls.crt")));
        string serial = Convert.ToHexStringLower(certificate.SerialNumberBytes.Span);
        var expected = new Dictionary<string, double>
        {
            ["tapir_edge_configurations_written_total"] = 1,
            [$"tapir_edge_data_key_info{{alg=\"ES256\",crv=\"P-256\",kid=\"{node}\",thumbprint=\"{Thumbprint.Compute(dataKey)}\"}}"] = 1,
            ["tapir_edge_messages_total{outcome=\"refused\",reason=\"BadSignature\"}"] = 1,
            ["tapir_edge_messages_total{outcome=\"refused\",reason=\"KeyNotFound\"}"] = 1,
            ["tapir_edge_messages_total{outcome=\"refused\",reason=\"Malformed\"}"] = 1,
            ["tapir_edge_messages_total{outcome=\"refused\",reason=\"not_json\"}"] = 1,
            ["tapir_edge_messages_total{outcome=\"refused\",reason=\"not_jwks\"}"] = 1,
            ["tapir_edge_messages_total{outcome=\"refused\",reason=\"topic\"}"] = 1,
            ["tapir_edge_messages_total{outcome=\"verified\"}"] = 1,
            ["tapir_edge_mqtt_connected"] = 1,
            ["tapir_edge_mqtt_connects_total"] = 1,
            ["tapir_edge_status_messages_total{outcome=\"sent\"}"] = 1,
        };
        double expiry = samples[$"tapir_edge_certificate_expiry_seconds{{serial=\"{serial}\"}}"];
        Assert.InRange(expiry, 3500, 3600);
        samples.Remove($"tapir_edge_certificate_expiry_seconds{{serial=\"{serial}\"}}");
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), samples.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.DoesNotContain("tapir_enrollments_total", text, StringComparison.Ordinal); // the core's meter is not the edge's

        var health = await http.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Matches($"^broker connected\ncertificate ok: serial {serial}, 3[5-6][0-9][0-9]s left\n$", await health.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("config")).StatusCode);

        world.Core.Stop();
        agent.AssertLogged("cannot connect to the broker");
        var down = await http.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.StartsWith("broker not connected\ncertificate ok: ", await down.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, PrometheusGrammar.Check(await http.GetStringAsync("metrics"))["tapir_edge_mqtt_connected"]);
        agent.Stop();
    }

    [Fact]
    public void MetricsListenIsOffByDefault()
    {
        using var world = new World();
        var (node, alg) = Edges[0];
        using var agent = world.StartAgent(world.Enroll(node, alg));
        agent.AssertLogged("subscribed to");
        Assert.DoesNotContain("metrics and health on", agent.LogText, StringComparison.Ordinal);
        Assert.Empty(MetricsEndpointTests.ListeningPorts(agent.Pid));
        agent.Stop();
    }

    private static string Sign(string json, Jwk key) => JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(json), key);

    private static string[] TrustedKids(string state)
    {
        Assert.True(JwkSet.TryParse(File.ReadAllBytes(Path.Combine(state, "trusted.jwks")), out var set, out var why), why.ToString());
        return set.Keys.Select(k => k.Kid!).ToArray();
    }

    /// <summary>The same JWS with one byte of its payload changed (the signature left as it was).</summary>
    private static string ChangeOneByteOfThePayload(string jws)
    {
        using var doc = JsonDocument.Parse(jws);
        string encoded = doc.RootElement.GetProperty("payload").GetString()!;
        Assert.True(Tapir.Security.Encoding.Base64Url.TryDecode(encoded, out var payload));
        payload[^2] ^= 0x01;
        return jws.Replace(encoded, Tapir.Security.Encoding.Base64Url.Encode(payload), StringComparison.Ordinal);
    }

    /// <summary>A core serving its embedded broker with one-hour certificates and the forger role, and the edges enrolled with it.</summary>
    private sealed class World : IDisposable
    {
        private readonly string forgerState;

        public World()
        {
            Core = new CoreProcess();
            Core.Environment["TAPIR_CORE__CERTIFICATE_LIFETIME"] = "1h";
            Core.Environment["TAPIR_CORE__CORE_ROLES"] = Forger;
            Core.Environment["TAPIR_MQTT__CORE_ROLE_PUBLISH"] = "configuration/#,config/down/#";
            Core.Start();
            forgerState = Enroll(Forger, ["--alg", "ES256"]);
            Assert.True(JwkParser.TryParse(File.ReadAllBytes(Path.Combine(Core.StateDir, "core-data.jwk")), out var key, out _));
            Kid = key.Kid!;
        }

        public CoreProcess Core { get; }

        /// <summary>The core data key's kid when the world was made.</summary>
        public string Kid { get; }

        public string Enroll(string node, string[] alg)
        {
            string state = Core.File(node);
            var r = Core.Tapir(["edge", "enroll", "--credentials", Core.AddNode(node), "--state", state, .. alg]);
            Assert.True(r.ExitCode == 0, r.Stderr + Core.LogText);
            return state;
        }

        public AgentProcess StartAgent(string state, params (string Key, string Value)[] environment)
        {
            var env = new Dictionary<string, string>(Core.Environment);
            foreach (var (k, v) in environment)
            {
                env[k] = v;
            }
            return new AgentProcess(state, env);
        }

        /// <summary>Enrolls the three edges and starts an agent for each; returns once all three have subscribed.</summary>
        public List<(string Node, string State, AgentProcess Agent)> StartAgents()
        {
            var agents = new List<(string, string, AgentProcess)>();
            try
            {
                foreach (var (node, alg) in Edges)
                {
                    string state = Enroll(node, alg);
                    agents.Add((node, state, StartAgent(state)));
                }
                foreach (var (_, _, agent) in agents)
                {
                    agent.AssertLogged("subscribed to");
                }
                return agents;
            }
            catch
            {
                agents.ForEach(a => a.Item3.Dispose());
                throw;
            }
        }

        /// <summary>`tapir core node configure` for one node; the running core must publish it.</summary>
        public void ConfigureOne(string node, string json)
        {
            string file = Core.File($"configure-{Guid.NewGuid():N}.json");
            File.WriteAllText(file, json);
            var r = Core.Tapir("core", "node", "configure", node, file);
            Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        }

        public void ConfigureEach(string json)
        {
            foreach (var (node, _) in Edges)
            {
                ConfigureOne(node, json);
            }
        }

        /// <summary>`tapir core publish` (signed with the current core data key); the running core must publish it.</summary>
        public void Publish(string topic, string json)
        {
            string file = Core.File($"publish-{Guid.NewGuid():N}.json");
            File.WriteAllText(file, json);
            var r = Core.Tapir("core", "publish", topic, file);
            Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        }

        /// <summary>mosquitto_pub to the embedded broker with the forger role's certificate (MQTT 5, QoS 1); the broker must accept it.</summary>
        public void PublishAsForger(string topic, string message)
        {
            string file = Core.File($"forged-{Guid.NewGuid():N}");
            File.WriteAllText(file, message);
            var r = Run.Process("mosquitto_pub", ["-V", "5", "-h", "127.0.0.1", "-p", Core.MqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--cafile", Path.Combine(Core.StateDir, "ca.crt"), "--cert", Path.Combine(forgerState, "tls.crt"), "--key", Path.Combine(forgerState, "tls.key"),
                "-i", Forger + "-pub", "-q", "1", "-t", topic, "-f", file]);
            Assert.True(r.ExitCode == 0, $"mosquitto_pub: {r.Stderr}\n{Core.LogText}");
        }

        /// <summary>SIGTERM to every agent; each must exit 0 (all are stopped even when one fails).</summary>
        public static void StopAll(List<(string Node, string State, AgentProcess Agent)> agents)
        {
            var failures = new List<Exception>();
            foreach (var (_, _, agent) in agents)
            {
                try
                {
                    agent.Dispose();
                }
                catch (Exception e)
                {
                    failures.Add(e);
                }
            }
            if (failures.Count > 0)
            {
                throw new AggregateException(failures);
            }
        }

        public void Dispose() => Core.Dispose();
    }
}
