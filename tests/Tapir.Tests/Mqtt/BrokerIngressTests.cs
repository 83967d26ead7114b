// Enforcement at ingress (issue 11, DESIGN §6.4, §8.3): an edge's message is accepted only as a JWS
// that verifies with its own data key, kid = node = topic segment = certificate; accepted messages
// are in the durable event log and reach a core role, unchanged, on verified/<topic> (queued for its
// persistent session while it is offline, never for a session that is gone); everything
// else gets PUBACK 0x87, a logged reason, and reaches nobody.
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using static Tapir.Tests.Mqtt.BrokerCore;

namespace Tapir.Tests.Mqtt;

public sealed class BrokerIngressTests(BrokerCore broker) : IClassFixture<BrokerCore>
{
    [Theory]
    [InlineData("flattened", 5)]
    [InlineData("compact", 5)]
    [InlineData("general", 4)]
    public void AJoseSignedMessageIsStoredAndRepublishedOnVerified(string serialization, int version)
    {
        string payload = $$"""{"type":"new_qname","qname":"{{serialization}}.example.","n":{{Random.Shared.Next()}}}""";
        string topic = $"events/up/{Edge1}/{serialization}";
        using var listener = broker.Subscriber(Reader, "mqttv5", $"{Reader}-{serialization}", "verified/#");
        var report = broker.MqttJs(Edge1, version, $"{Edge1}-{serialization}", [Steps.PublishSigned(topic, broker.DataKey(Edge1), payload, serialization)]);
        Assert.Equal(0, report.Connack);
        if (version == 5)
        {
            Assert.Equal([0], report.Puback);
        }
        // mosquitto_sub -v prints "topic payload"; the republished payload is the stored message, byte for byte.
        listener.WaitFor($"verified/{topic} ");
        string delivered = listener.Output.Split('\n').Single(l => l.StartsWith($"verified/{topic} ", StringComparison.Ordinal))[($"verified/{topic} ").Length..].TrimEnd('\r');
        Assert.Contains(payload, Decoded(delivered), StringComparison.Ordinal);
        var stored = Assert.Single(broker.Events(), e => e.Topic == topic && Encoding.UTF8.GetString(e.Message) == delivered);
        Assert.Equal(Edge1, stored.Node);
    }

    [Fact]
    public void AnOfflineCoreRoleSessionGetsVerifiedMessagesQueuedAndNoneOnceItsSessionIsGone()
    {
        string id = $"{Reader}-queued";
        string topic = $"events/up/{Edge1}/queued-{Random.Shared.Next()}";
        string Signed(string n) => $$"""{"type":"status","n":"{{n}}"}""";
        var subscribed = broker.MqttJs(Reader, 5, id, [Steps.Subscribe($"verified/{topic}", 1)], clean: false);
        Assert.Equal([1], Assert.Single(subscribed.Acks).Codes);
        Assert.Equal([0], broker.MqttJs(Edge1, 5, $"{Edge1}-queued", [Steps.PublishSigned(topic, broker.DataKey(Edge1), Signed("first"))]).Puback);

        // The persistent session was offline: the message waited in its queue, on verified/<topic>, unchanged.
        var resumed = broker.MqttJs(Reader, 5, id, [Steps.Wait(500)], clean: false);
        var delivered = Assert.Single(resumed.Messages);
        Assert.Equal($"verified/{topic}", delivered.Topic);
        Assert.Contains(Signed("first"), Decoded(delivered.Payload), StringComparison.Ordinal);

        // A clean start (expiry 0) ends the session and its subscription with it.
        Assert.Empty(broker.MqttJs(Reader, 5, id, [], clean: true).Messages);
        Assert.Equal([0], broker.MqttJs(Edge1, 5, $"{Edge1}-queued", [Steps.PublishSigned(topic, broker.DataKey(Edge1), Signed("second"))]).Puback);
        Assert.Empty(broker.MqttJs(Reader, 5, id, [Steps.Wait(500)], clean: false).Messages);
        broker.MqttJs(Reader, 5, id, [], clean: true); // leaves no session behind
        Assert.Contains(broker.Events(), e => e.Topic == topic && Decoded(Encoding.UTF8.GetString(e.Message)).Contains(Signed("second"), StringComparison.Ordinal));
    }

    public static TheoryData<string, string> Forgeries() => new()
    {
        { "unsigned", "Malformed: not a JWS" },
        { "other node's key, own kid", "BadSignature" },
        { "other node's key and kid", "NameMismatch: kid is not the node" },
        { "alg not the key's", "KeyMismatch" },
        { "HS256 with the public key", "AlgorithmNotAllowed" },
        { "truncated", "Malformed: not a JWS" },
        { "400 KiB of garbage (under mqtt.max_packet_bytes)", "Malformed: not a JWS" },
        { "alg none", "AlgorithmNotAllowed" },
        { "own key, kid only in the unprotected header", "Malformed: kid is not in the protected header" },
    };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public void AForgedMessageGetsPubackNotAuthorizedAndReachesNobody(string forgery, string reason)
    {
        string id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(forgery)))[..8];
        string topic = $"events/up/{Edge1}/forgery-{id}";
        using var listener = broker.Subscriber(Reader, "mqttv5", $"{Reader}-{id}", "verified/#");
        var report = broker.MqttJs(Edge1, 5, $"{Edge1}-forgery", [Forge(forgery, topic)]);
        Assert.Equal(0, report.Connack);
        Assert.Equal([135], report.Puback);
        broker.Core.AssertLogged($"MQTT publish refused: node {Edge1} topic '{topic}': {reason}");
        Thread.Sleep(300); // accepted messages are republished before their PUBACK; this is slack only
        Assert.DoesNotContain($"verified/{topic}", listener.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(broker.Events(), e => e.Topic == topic);
    }

    [Fact]
    public void MosquittoPubWithASignedFileIsAcceptedInBothVersions()
    {
        foreach (string version in new[] { "mqttv5", "mqttv311" })
        {
            string file = broker.Core.File($"signed-{version}.jws");
            string json = broker.Core.File($"payload-{version}.json");
            File.WriteAllText(json, $$"""{"type":"status","v":"{{version}}"}""");
            var sign = broker.Core.Tapir("jws", "sign", "--key", Path.Combine(broker.Dir(Edge2), "datakey.jwk"), json);
            File.WriteAllText(file, sign.Stdout.Trim());
            var r = broker.Mosquitto("mosquitto_pub", Edge2, version, "-i", Edge2, "-t", $"status/up/{Edge2}/tapir", "-f", file, "-q", "1");
            Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
            Assert.Contains(version == "mqttv5" ? "received PUBACK (Mid: 1, RC:0)" : "received PUBACK (Mid: 1", r.Stdout);
            Assert.Contains(broker.Events(), e => e.Node == Edge2 && Encoding.UTF8.GetString(e.Message) == sign.Stdout.Trim());
        }
    }

    private JsonObject Forge(string forgery, string topic)
    {
        var own = broker.DataKey(Edge1);
        var other = broker.DataKey(Edge2);
        byte[] payload = Encoding.UTF8.GetBytes("""{"type":"new_qname"}""");
        return forgery switch
        {
            "unsigned" => Steps.Publish(topic, """{"type":"new_qname"}"""),
            "other node's key, own kid" => Steps.PublishSigned(topic, other, "{}", header: new JsonObject { ["alg"] = "EdDSA", ["kid"] = Edge1 }),
            "other node's key and kid" => Steps.PublishSigned(topic, other, "{}"),
            "alg not the key's" => Steps.Publish(topic, Compact($$"""{"alg":"ES256","kid":"{{Edge1}}"}""", payload, RandomNumberGenerator.GetBytes(64))),
            "HS256 with the public key" => Steps.Publish(topic, Hs256WithPublicKey(own, payload)),
            "truncated" => Steps.Publish(topic, Compact($$"""{"alg":"EdDSA","kid":"{{Edge1}}"}""", payload, RandomNumberGenerator.GetBytes(64))[..60]),
            "400 KiB of garbage (under mqtt.max_packet_bytes)" => Steps.PublishBytes(topic, RandomNumberGenerator.GetBytes(400 * 1024)),
            "alg none" => Steps.Publish(topic, Compact($$"""{"alg":"none","kid":"{{Edge1}}"}""", payload, [])),
            "own key, kid only in the unprotected header" => Steps.Publish(topic, KidUnprotected(own, payload)),
            _ => throw new ArgumentException(forgery, nameof(forgery)),
        };
    }

    /// <summary>Flattened, signed with the node's own key, protected {"alg"} only and the kid in the unprotected header.</summary>
    private static string KidUnprotected(JsonNode key, byte[] payload)
    {
        Assert.True(Tapir.Security.Jose.JwkParser.TryParse(Encoding.UTF8.GetBytes(key.ToJsonString()), out var jwk, out _));
        string header = B64("{\"alg\":\"EdDSA\"}"u8.ToArray()), body = B64(payload);
        byte[] signature = Tapir.Security.Jose.JwsCrypto.Sign(jwk, Tapir.Security.Jose.JwsAlgorithm.EdDSA, Encoding.ASCII.GetBytes($"{header}.{body}"));
        return new JsonObject { ["payload"] = body, ["protected"] = header, ["header"] = new JsonObject { ["kid"] = Edge1 }, ["signature"] = B64(signature) }.ToJsonString();
    }

    private static string Hs256WithPublicKey(JsonNode key, byte[] payload)
    {
        var publicJwk = new JsonObject { ["kty"] = "OKP", ["crv"] = "Ed25519", ["x"] = key["x"]!.GetValue<string>() };
        string header = B64(Encoding.UTF8.GetBytes($$"""{"alg":"HS256","kid":"{{Edge1}}"}""")), body = B64(payload);
        byte[] mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(publicJwk.ToJsonString()), Encoding.ASCII.GetBytes($"{header}.{body}"));
        return $"{header}.{body}.{B64(mac)}";
    }

    private static string Compact(string header, byte[] payload, byte[] signature) => $"{B64(Encoding.UTF8.GetBytes(header))}.{B64(payload)}.{B64(signature)}";

    private static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The signed payload of a JWS in any serialization, as text.</summary>
    private static string Decoded(string jws)
    {
        string b64 = jws.TrimStart().StartsWith('{') ? JsonNode.Parse(jws)!["payload"]!.GetValue<string>() : jws.Split('.')[1];
        string padded = b64.Replace('-', '+').Replace('_', '/');
        return Encoding.UTF8.GetString(Convert.FromBase64String(padded.PadRight(padded.Length + ((4 - (padded.Length % 4)) % 4), '=')));
    }
}
