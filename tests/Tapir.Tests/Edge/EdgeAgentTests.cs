// `tapir edge run` against Debian's mosquitto with real processes (issue 12, DESIGN §6.3–6.5):
// verified configurations written with their signed originals, forgeries and untrusted key sets
// ignored and logged with the reason, JWKS rotation, signed status, reconnection after a broker
// restart, renewal with reconnect, and a clean stop on SIGTERM.
using System.Text.Json;
using Tapir.Security.Jose;

namespace Tapir.Tests.Edge;

public sealed class EdgeAgentTests(EdgeBroker fixture) : IClassFixture<EdgeBroker>
{
    private string CoreKid => fixture.CoreKey.Kid!;

    private (string Node, string State, AgentProcess Agent) StartAgent(params (string, string)[] environment)
    {
        string node = fixture.NewNode();
        string state = fixture.Enroll(node);
        var agent = fixture.StartAgent(state, environment);
        agent.AssertLogged("subscribed to");
        return (node, state, agent);
    }

    [Fact]
    public void SignedConfigurationIsWrittenWithItsOriginal()
    {
        var (node, state, agent) = StartAgent();
        using (agent)
        {
            string topic = $"configuration/{node}/config";
            string first = EdgeBroker.Sign("{\"resolver\":\"a\",\"ttl\":60}", fixture.CoreKey);
            fixture.PublishAsCore(topic, first, retain: true);
            agent.AssertLogged($"configuration config from {topic} (signed by {CoreKid}) written to {state}/config/config.json: new");
            Assert.Equal("{\"resolver\":\"a\",\"ttl\":60}", File.ReadAllText(Path.Combine(state, "config", "config.json")));
            Assert.Equal(first, File.ReadAllText(Path.Combine(state, "config", "config.jws")));

            fixture.PublishAsCore(topic, EdgeBroker.Sign("{\"resolver\":\"b\",\"ttl\":60,\"new\":true}", fixture.CoreKey));
            agent.AssertLogged($"written to {state}/config/config.json: added new; changed resolver");

            fixture.PublishAsCore("config/down/dnstap-t1", EdgeBroker.Sign("{\"on\":true}", fixture.CoreKey));
            agent.AssertLogged($"configuration dnstap-t1 from config/down/dnstap-t1 (signed by {CoreKid}) written to {state}/config/dnstap-t1.json: new");
            Assert.Equal("{\"on\":true}", File.ReadAllText(Path.Combine(state, "config", "dnstap-t1.json")));
            agent.Stop();
        }
    }

    [Fact]
    public void ForgedConfigurationsAreIgnoredAndLogged()
    {
        var (node, state, agent) = StartAgent();
        using (agent)
        {
            string topic = $"configuration/{node}/config";
            var impostor = JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed25519", CoreKid); // the core's kid, another key
            fixture.PublishAsCore(topic, EdgeBroker.Sign("{\"forged\":1}", impostor));
            agent.AssertLogged($"message on {topic} ignored: not verified with the trusted JWKS: BadSignature (1 refused so far)");

            var stranger = JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed25519", "stranger");
            fixture.PublishAsCore(topic, EdgeBroker.Sign("{\"forged\":2}", stranger));
            agent.AssertLogged($"message on {topic} ignored: not verified with the trusted JWKS: KeyNotFound (2 refused so far)");

            fixture.PublishAsCore(topic, ChangeOneByteOfThePayload(EdgeBroker.Sign("{\"forged\":3}", fixture.CoreKey)));
            agent.AssertLogged($"message on {topic} ignored: not verified with the trusted JWKS: BadSignature (3 refused so far)");

            fixture.PublishAsCore(topic, "{\"unsigned\":true}");
            agent.AssertLogged($"message on {topic} ignored: not verified with the trusted JWKS: Malformed (4 refused so far)");

            // Signed by the core, but the topic names no configuration the agent may write.
            fixture.PublishAsCore("config/down/..", EdgeBroker.Sign("{\"path\":1}", fixture.CoreKey));
            agent.AssertLogged("message on config/down/.. ignored: not a topic the agent acts on (5 refused so far)");
            fixture.PublishAsCore("config/down/config", EdgeBroker.Sign("{\"shadow\":1}", fixture.CoreKey));
            agent.AssertLogged("message on config/down/config ignored: not a topic the agent acts on (6 refused so far)");
            fixture.PublishAsCore("config/down/a/b", EdgeBroker.Sign("{\"deep\":1}", fixture.CoreKey));
            agent.AssertLogged("message on config/down/a/b ignored: not a topic the agent acts on (7 refused so far)");
            Assert.False(Directory.Exists(Path.Combine(state, "config")));
            agent.Stop();
        }
    }

    [Fact]
    public void JwksRotationSignedByTheTrustedKeyIsAcceptedAndTheNewKeyThenWorks()
    {
        var (node, state, agent) = StartAgent();
        using (agent)
        {
            string topic = $"configuration/{node}/config";
            var next = JwkGenerator.Generate(JwsAlgorithm.ES256, null, "core-next");
            fixture.PublishAsCore(topic, EdgeBroker.Sign("{\"early\":1}", next));
            agent.AssertLogged($"message on {topic} ignored: not verified with the trusted JWKS: KeyNotFound");

            var rotated = new JwkSet([fixture.CoreKey.PublicKey(), next.PublicKey()]);
            fixture.PublishAsCore("config/down/jwks", EdgeBroker.Sign(rotated.ToJson(), fixture.CoreKey));
            agent.AssertLogged($"trusted JWKS replaced from config/down/jwks (signed by {CoreKid}): keys {CoreKid}, core-next; before: {CoreKid}");
            Assert.True(JwkSet.TryParse(File.ReadAllBytes(Path.Combine(state, "trusted.jwks")), out var onDisk, out _));
            Assert.Equal([CoreKid, "core-next"], onDisk.Keys.Select(k => k.Kid));

            fixture.PublishAsCore(topic, EdgeBroker.Sign("{\"late\":1}", next));
            agent.AssertLogged($"configuration config from {topic} (signed by core-next) written to {state}/config/config.json: new");
            Assert.Equal("{\"late\":1}", File.ReadAllText(Path.Combine(state, "config", "config.json")));
            agent.Stop();
        }
    }

    [Fact]
    public void JwksSignedByAnUntrustedKeyOrNotAPublicSetIsIgnored()
    {
        var (_, state, agent) = StartAgent();
        using (agent)
        {
            byte[] before = File.ReadAllBytes(Path.Combine(state, "trusted.jwks"));
            var usurper = JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed25519", "usurper");
            fixture.PublishAsCore("config/down/jwks", EdgeBroker.Sign(new JwkSet([usurper.PublicKey()]).ToJson(), usurper));
            agent.AssertLogged("message on config/down/jwks ignored: not verified with the trusted JWKS: KeyNotFound");

            fixture.PublishAsCore("config/down/jwks", EdgeBroker.Sign("{\"keys\":[]}", fixture.CoreKey));
            agent.AssertLogged($"message on config/down/jwks ignored: signed by trusted key {CoreKid} but not a usable public JWKS: Malformed");

            fixture.PublishAsCore("config/down/jwks", EdgeBroker.Sign(new JwkSet([usurper]).ToJson(includePrivate: true), fixture.CoreKey));
            agent.AssertLogged($"message on config/down/jwks ignored: signed by trusted key {CoreKid} but not a usable public JWKS: ParameterNotAllowed");
            Assert.Equal(before, File.ReadAllBytes(Path.Combine(state, "trusted.jwks")));
            Assert.Equal(0, agent.Count("trusted JWKS replaced"));
            agent.Stop();
        }
    }

    [Fact]
    public async Task StatusIsPublishedSignedByTheNodesDataKey()
    {
        string node = fixture.NewNode();
        string state = fixture.Enroll(node, "ES256");
        var subscriber = Task.Run(() => fixture.Broker.SubscribeOnce($"status/up/{node}/tapir", Path.Combine(fixture.RoleState, "tls.crt"), Path.Combine(fixture.RoleState, "tls.key"), 15));
        Thread.Sleep(500); // mosquitto_sub subscribes before the agent starts
        using var agent = fixture.StartAgent(state, ("TAPIR_EDGE__STATUS_INTERVAL", "1s"));
        var r = await subscriber;
        Assert.True(r.ExitCode == 0, r.Stderr + agent.LogText);
        Assert.True(JwkParser.TryParse(File.ReadAllBytes(Path.Combine(state, "datakey.jwk")), out var dataKey, out _));
        var policy = new JwsPolicy(JwsAlgorithms.Asymmetric, new JwkSet([dataKey.PublicKey()]));
        Assert.True(JwsVerifier.TryVerify(System.Text.Encoding.UTF8.GetBytes(r.Stdout.TrimEnd('\n')), policy, out var verified, out var why), why.ToString());
        Assert.Equal((JwsSerialization.Flattened, node, JwsAlgorithm.ES256), (verified.Message.Serialization, verified.Message.Signatures[0].Kid, verified.Message.Signatures[0].Alg));
        using var status = JsonDocument.Parse(verified.Payload);
        var s = status.RootElement;
        Assert.Equal(node, s.GetProperty("node").GetString());
        Assert.Equal(Thumbprint.Compute(dataKey), s.GetProperty("data_key_thumbprint").GetString());
        Assert.Equal(CoreKid, s.GetProperty("trusted_kids")[0].GetString());
        Assert.True(s.GetProperty("uptime_seconds").GetInt64() >= 0);
        Assert.Matches("^[0-9a-f]+$", s.GetProperty("certificate_serial").GetString());
        agent.AssertLogged($"status published on status/up/{node}/tapir", times: 2); // and again after the interval
        agent.Stop();
    }

    [Fact]
    public void AgentReconnectsAfterTheBrokerRestartsAndGetsTheNextConfiguration()
    {
        var (node, state, agent) = StartAgent();
        using (agent)
        {
            fixture.Broker.Stop();
            agent.AssertLogged("cannot connect to the broker");
            fixture.Broker.Start();
            agent.AssertLogged("connected to the broker", times: 2, seconds: 20);
            agent.AssertLogged("subscribed to", times: 2);
            fixture.PublishAsCore($"configuration/{node}/config", EdgeBroker.Sign("{\"after\":\"restart\"}", fixture.CoreKey));
            agent.AssertLogged($"written to {state}/config/config.json: new");
            agent.Stop();
        }
    }

    /// <summary>Two agents on one state share a client id: each takes the session from the other, and both back off.</summary>
    [Fact]
    public void AConnectionTakenOverAtOnceIsRedialledWithBackoff()
    {
        var (_, state, first) = StartAgent();
        using (first)
        {
            using var second = fixture.StartAgent(state);
            first.AssertLogged("the connection ended within seconds; retrying in");
            second.AssertLogged("subscribed to");
            second.Stop();
            first.AssertLogged("subscribed to", times: 2, seconds: 20);
            first.Stop();
        }
    }

    [Fact]
    public void StopsWithStatus0OnSigtermEvenWhileTheBrokerIsUnreachable()
    {
        string state = fixture.Enroll(fixture.NewNode());
        var bootstrap = Path.Combine(state, "bootstrap.json");
        File.WriteAllText(bootstrap, File.ReadAllText(bootstrap).Replace($":{fixture.Broker.Port}\"", $":{Core.CoreProcess.FreePort()}\"", StringComparison.Ordinal));
        using var agent = fixture.StartAgent(state);
        agent.AssertLogged("cannot connect to the broker", times: 2);
        agent.Stop();
        Assert.Contains("SIGTERM received: stopping", agent.LogText, StringComparison.Ordinal);
    }

    /// <summary>A broker whose certificate is a tapir node's (clientAuth only) is not the core's broker.</summary>
    [Fact]
    public void RefusesABrokerWithoutAServerCertificateFromTheRoot()
    {
        string impostorState = fixture.Enroll(fixture.NewNode());
        string impostorDir = fixture.File("impostor-broker");
        Directory.CreateDirectory(impostorDir);
        using var impostor = new Mosquitto(impostorDir, fixture.Core.StateDir, EdgeBroker.CoreRole, (Path.Combine(impostorState, "tls.crt"), Path.Combine(impostorState, "tls.key")));
        impostor.Start();
        string state = fixture.Enroll(fixture.NewNode());
        var bootstrap = Path.Combine(state, "bootstrap.json");
        File.WriteAllText(bootstrap, File.ReadAllText(bootstrap).Replace($":{fixture.Broker.Port}\"", $":{impostor.Port}\"", StringComparison.Ordinal));
        using var agent = fixture.StartAgent(state);
        agent.AssertLogged("(the broker's TLS certificate is not a tapir certificate for 127.0.0.1: CertificateWrongPurpose)");
        Assert.Equal(0, agent.Count("connected to the broker"));
        agent.Stop();
    }

    [Fact]
    public void RenewsItsCertificateAndReconnectsWithIt()
    {
        var (node, state, agent) = StartAgent(("TAPIR_EDGE__RENEW_AFTER", "2s"));
        using (agent)
        {
            string before = File.ReadAllText(Path.Combine(state, "tls.crt"));
            agent.AssertLogged($"renewed {node}: serial");
            agent.AssertLogged("reconnecting to take the renewed certificate (serial ");
            agent.AssertLogged("connected to the broker", times: 2);
            Assert.NotEqual(before, File.ReadAllText(Path.Combine(state, "tls.crt")));
            string serial = agent.LogText.Split("reconnecting to take the renewed certificate (serial ")[1].Split(')')[0];
            agent.AssertLogged($"with certificate serial {serial} (session resumed)");
            fixture.PublishAsCore($"configuration/{node}/config", EdgeBroker.Sign("{\"renewed\":true}", fixture.CoreKey));
            agent.AssertLogged($"written to {state}/config/config.json: new");
            agent.Stop();
        }
    }

    [Fact]
    public void FailedRenewalIsRetriedAndSaysHowLongIsLeft()
    {
        var (node, _, agent) = StartAgent(("TAPIR_EDGE__RENEW_AFTER", "1s"));
        using (agent)
        {
            fixture.Core.Stop();
            try
            {
                agent.AssertLogged("renewal failed (");
                Assert.Matches("the current certificate expires in [0-9.]+ d; retrying in [0-9.]+ s", agent.LogText);
            }
            finally
            {
                fixture.Core.Start();
            }
            agent.AssertLogged($"renewed {node}: serial", seconds: 20);
            agent.Stop();
        }
    }

    [Fact]
    public void EdgePublishWaitsForPuback0AndReportsARefusalWithExit1()
    {
        string node = fixture.NewNode();
        string state = fixture.Enroll(node);
        string file = fixture.File($"{node}.event.json");
        File.WriteAllText(file, "{\"type\":\"new_qname\",\"qname\":\"example.org.\"}");

        var ok = fixture.Core.Tapir("edge", "publish", $"events/up/{node}/new_qname", file, "--state", state);
        Assert.True(ok.ExitCode == 0, ok.Stderr + fixture.Broker.LogText);
        Assert.Matches($"^published [0-9]+ bytes on events/up/{node}/new_qname as {node}: PUBACK (Success \\(0x00\\)|NoMatchingSubscribers \\(0x10\\))\n$", ok.Stdout);

        var refused = fixture.Core.Tapir("edge", "publish", "events/up/other.example.net/new_qname", file, "--state", state);
        Assert.Equal((1, "", "tapir: error: the broker refused the message on events/up/other.example.net/new_qname: PUBACK NotAuthorized (0x87)\n"),
            (refused.ExitCode, refused.Stdout, refused.Stderr));

        var wildcard = fixture.Core.Tapir("edge", "publish", "events/up/#", file, "--state", state);
        Assert.Equal(2, wildcard.ExitCode);

        var bootstrap = Path.Combine(state, "bootstrap.json");
        int closed = Core.CoreProcess.FreePort();
        File.WriteAllText(bootstrap, File.ReadAllText(bootstrap).Replace($":{fixture.Broker.Port}\"", $":{closed}\"", StringComparison.Ordinal));
        var unreachable = fixture.Core.Tapir("edge", "publish", $"events/up/{node}/new_qname", file, "--state", state);
        Assert.Equal(1, unreachable.ExitCode);
        Assert.StartsWith($"tapir: error: cannot connect to the broker mqtts://127.0.0.1:{closed}/: ", unreachable.Stderr);
    }

    [Fact]
    public async Task EdgePublishSignsWithTheDataKey()
    {
        string node = fixture.NewNode();
        string state = fixture.Enroll(node, "ES256");
        string file = fixture.File($"{node}.status.json");
        File.WriteAllText(file, "{\"n\":1}");
        var subscriber = Task.Run(() => fixture.Broker.SubscribeOnce($"status/up/{node}/x", Path.Combine(fixture.RoleState, "tls.crt"), Path.Combine(fixture.RoleState, "tls.key"), 10));
        Thread.Sleep(500);
        var r = fixture.Core.Tapir("edge", "publish", $"status/up/{node}/x", file, "--state", state);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var received = await subscriber;
        Assert.True(JwkParser.TryParse(File.ReadAllBytes(Path.Combine(state, "datakey.jwk")), out var dataKey, out _));
        var policy = new JwsPolicy(JwsAlgorithms.Asymmetric, new JwkSet([dataKey.PublicKey()]));
        Assert.True(JwsVerifier.TryVerify(System.Text.Encoding.UTF8.GetBytes(received.Stdout.TrimEnd('\n')), policy, out var verified, out var why), why.ToString());
        Assert.Equal("{\"n\":1}", System.Text.Encoding.UTF8.GetString(verified.Payload));
        Assert.Equal(["alg", "kid"], ProtectedMembers(verified.Message.Signatures[0].ProtectedB64));
        // The outbound audit log holds the message as sent: its topic, size and SHA-256, and the PUBACK.
        string sent = received.Stdout.TrimEnd('\n');
        string sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sent)));
        var audit = fixture.Core.Tapir("edge", "audit", "--state", state);
        Assert.Contains($"  mqtt       status/up/{node}/x  {sent.Length} bytes  sha256:{sha256[..16]}…  jws kid={node}  PUBACK Success (0x00)", audit.Stdout);
    }

    [Fact]
    public void RunAndPublishRefuseAStateThatIsNotEnrolled()
    {
        string none = fixture.File("not-enrolled");
        string file = fixture.File("any.json");
        File.WriteAllText(file, "{}");
        foreach (var args in new[] { new[] { "edge", "run", "--state", none }, ["edge", "publish", "events/up/x/y", file, "--state", none] })
        {
            var r = Run.Tapir(args);
            Assert.Equal((1, $"tapir: error: {none} is not enrolled; run 'tapir edge enroll' first.\n"), (r.ExitCode, r.Stderr));
        }
    }

    private static string[] ProtectedMembers(string protectedB64)
    {
        Assert.True(Tapir.Security.Encoding.Base64Url.TryDecode(protectedB64, out var json));
        using var header = JsonDocument.Parse(json);
        return header.RootElement.EnumerateObject().Select(m => m.Name).ToArray();
    }

    /// <summary>The same JWS with one byte of its payload changed (the signature left as it was).</summary>
    private static string ChangeOneByteOfThePayload(string jws)
    {
        using var doc = JsonDocument.Parse(jws);
        Assert.True(Tapir.Security.Encoding.Base64Url.TryDecode(doc.RootElement.GetProperty("payload").GetString(), out var payload));
        payload[^2] ^= 0x01;
        return jws.Replace(doc.RootElement.GetProperty("payload").GetString()!, Tapir.Security.Encoding.Base64Url.Encode(payload), StringComparison.Ordinal);
    }
}
