// The broker's connect rules and ACL through independent clients (issue 11, DESIGN §2, §6.1,
// §6.2): Debian's mosquitto_pub/mosquitto_sub and MQTT.js, MQTT 3.1.1 and 5, with the exact
// CONNACK, SUBACK and PUBACK codes, and every refusal in the core's log with node, topic, reason.
using System.Text.Json.Nodes;
using static Tapir.Tests.Mqtt.BrokerCore;

namespace Tapir.Tests.Mqtt;

public sealed class BrokerAclTests(BrokerCore broker) : IClassFixture<BrokerCore>
{
    [Theory]
    [InlineData("mqttv5", "0, 135, 135, 135, 0, 135, 0")]
    [InlineData("mqttv311", "0, 128, 128, 128, 0, 128, 0")]
    public void MosquittoSubGetsTheSubackCodeOfEachFilter(string version, string codes)
    {
        var r = broker.Mosquitto("mosquitto_sub", Edge1, version, "-i", $"{Edge1}-acl-{version}", "-W", "1",
            "-t", "config/down/#", "-t", "#", "-t", "$SYS/#", "-t", "+/+/+/+", "-t", $"configuration/{Edge1}/#", "-t", $"configuration/{Edge2}/config", "-t", "observations/down/#");
        Assert.Contains("received CONNACK (0)", r.Stdout);
        Assert.Contains($"Subscribed (mid: 1): {codes}", r.Stdout);
        broker.Core.AssertLogged($"MQTT subscribe refused: node {Edge1} filter '#': AclDenied");
        broker.Core.AssertLogged($"MQTT subscribe refused: node {Edge1} filter '$SYS/#': Malformed");
        broker.Core.AssertLogged($"MQTT subscribe refused: node {Edge1} filter '+/+/+/+': AclDenied");
        broker.Core.AssertLogged($"MQTT subscribe refused: node {Edge1} filter 'configuration/{Edge2}/config': AclDenied");
    }

    [Theory]
    [InlineData(5, 135)]
    [InlineData(4, 128)]
    public void MqttJsGetsTheSubackCodeOfEachFilter(int version, int refused)
    {
        var report = broker.MqttJs(Edge2, version, Edge2 + "-acljs",
            [Steps.Subscribe("config/down/jwks", 1), Steps.Subscribe("#"), Steps.Subscribe("verified/#"), Steps.Subscribe("aggregates"), Steps.Subscribe($"configuration/{Edge2}/config", 1)]);
        Assert.Equal(0, report.Connack);
        Assert.Equal([1, refused, refused, refused, 1], report.Suback);
    }

    [Fact]
    public void ACoreRoleReadsVerifiedAndAggregatesButNothingOfTheEdges()
    {
        var report = broker.MqttJs(Reader, 5, Reader,
            [Steps.Subscribe("verified/#", 1), Steps.Subscribe("aggregates", 1), Steps.Subscribe("events/up/#"), Steps.Subscribe("config/down/#"), Steps.Publish($"verified/events/up/{Edge1}/x", "{}")]);
        Assert.Equal(0, report.Connack);
        Assert.Equal([1, 1, 135, 135], report.Suback);
        Assert.Equal([135], report.Puback);
    }

    [Theory]
    [InlineData("mqttv5", "133")]
    [InlineData("mqttv311", "2")]
    public void AClientIdOfAnotherNodeIsRefusedAtConnect(string version, string code)
    {
        var r = broker.Mosquitto("mosquitto_pub", Edge1, version, "-i", Edge2, "-t", $"events/up/{Edge1}/x", "-m", "x", "-q", "1");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"received CONNACK ({code})", r.Stdout);
        broker.Core.AssertLogged($"MQTT connect refused: client id '{Edge2}'");
        broker.Core.AssertLogged($"node {Edge1} may only use client id '{Edge1}' or '{Edge1}-…'");
    }

    [Fact]
    public void APrefixOfTheNodeNameIsNotItsClientId()
    {
        var report = broker.MqttJs(Edge1, 5, "edge1.example.ne", []);
        Assert.Equal(133, report.Connack);
        report = broker.MqttJs(Edge1, 5, Edge1 + "x", []);
        Assert.Equal(133, report.Connack);
    }

    [Fact]
    public void AUserNameOrPasswordIsRefused()
    {
        var r = broker.Mosquitto("mosquitto_pub", Edge1, "mqttv5", "-i", Edge1 + "-user", "-u", "admin", "-P", "secret", "-t", $"events/up/{Edge1}/x", "-m", "x");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("received CONNACK (134)", r.Stdout);
        broker.Core.AssertLogged($"node {Edge1} sent a user name or password");
    }

    [Theory]
    [InlineData("mqttv5")]
    [InlineData("mqttv311")]
    public void WithoutAClientCertificateThereIsNoConnection(string version)
    {
        var r = broker.Mosquitto("mosquitto_pub", null, version, "-i", "anonymous", "-t", "config/down/jwks", "-m", "x");
        Assert.NotEqual(0, r.ExitCode);
        Assert.DoesNotContain("received CONNACK", r.Stdout);
        broker.Core.AssertLogged("MQTT TLS handshake refused: client certificate (none) is not a live tapir identity (ComponentMissing)");
    }

    [Fact]
    public void AForeignCaOrAnExpiredCertificateIsRefusedAtTheHandshake()
    {
        var (foreignCert, foreignKey) = Certificates.Foreign(broker.Core.File("foreign"), Edge1);
        var r = broker.MqttJs(Edge1, 5, Edge1, [], cert: foreignCert, key: foreignKey);
        Assert.Null(r.Connack);
        broker.Core.AssertLogged($"MQTT TLS handshake refused: client certificate CN={Edge1} is not a live tapir identity (CertificateUntrusted)");

        var (expiredCert, expiredKey) = Certificates.Expired(broker.Core.File("expired"), broker.Core.StateDir, "expired.example.net");
        r = broker.MqttJs(Edge1, 5, "expired.example.net", [], cert: expiredCert, key: expiredKey);
        Assert.Null(r.Connack);
        broker.Core.AssertLogged("MQTT TLS handshake refused: client certificate CN=expired.example.net is not a live tapir identity (CertificateExpired)");
    }

    [Theory]
    [InlineData("mqttv5")]
    [InlineData("mqttv311")]
    public void APublishToAnotherNodesTopicIsRefusedAndNeverDelivered(string version)
    {
        using var listener = broker.Subscriber(Reader, "mqttv5", $"{Reader}-{version}", "verified/#");
        string signedForEdge2 = Signed(Edge2);
        var r = broker.Mosquitto("mosquitto_pub", Edge1, version, "-i", $"{Edge1}-{version}", "-t", $"events/up/{Edge2}/new_qname", "-m", signedForEdge2, "-q", "1");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(version == "mqttv5" ? "received PUBACK (Mid: 1, RC:135)" : "received PUBACK (Mid: 1", r.Stdout);
        broker.Core.AssertLogged($"MQTT publish refused: node {Edge1} topic 'events/up/{Edge2}/new_qname': AclDenied");
        Thread.Sleep(300); // slack only: an accepted message would be republished before its PUBACK
        Assert.DoesNotContain(signedForEdge2, listener.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEdgeCannotForgeTheRetainedJwks()
    {
        var report = broker.MqttJs(Edge1, 5, Edge1 + "-forge",
            [Steps.PublishSigned("config/down/jwks", broker.DataKey(Edge1), """{"keys":[]}""", retain: true)]);
        Assert.Equal([135], report.Puback);
        broker.Core.AssertLogged($"MQTT publish refused: node {Edge1} topic 'config/down/jwks': AclDenied (retained publish, or topic not allowed)");
        // A retained publish on its own topic is refused too: edges never set retained state.
        report = broker.MqttJs(Edge1, 5, Edge1 + "-forge", [Steps.PublishSigned($"status/up/{Edge1}/tapir", broker.DataKey(Edge1), "{}", retain: true)]);
        Assert.Equal([135], report.Puback);
        var reader = broker.MqttJs(Edge2, 5, Edge2 + "-jwks", [Steps.Subscribe("config/down/jwks", 1), Steps.Wait(300)]);
        Assert.DoesNotContain(reader.Messages, m => m.Payload.Contains("\"keys\":[]", StringComparison.Ordinal));
    }

    [Fact]
    public void ReservedWildcardNulAndOverlongTopicsAreRefused()
    {
        var key = broker.DataKey(Edge1);
        var report = broker.MqttJs(Edge1, 5, Edge1 + "-topics",
        [
            Steps.PublishSigned("$SYS/broker/version", key, "{}"),
            Steps.PublishSigned($"events/up/{Edge1}/" + new string('a', 2048), key, "{}"),
            Steps.PublishSigned($"events/up/{Edge1}/a+b", key, "{}"),
            Steps.PublishSigned($"events/up/{Edge1}/#", key, "{}"),
            Steps.PublishSigned($"events/up/{Edge1}/a\0b", key, "{}"),
        ]);
        Assert.Equal(0, report.Connack);
        Assert.Equal([135, 135, 135, 135, 135], report.Puback);
        broker.Core.AssertLogged($"MQTT publish refused: node {Edge1} topic 'events/up/{Edge1}/a+b': Malformed");
        broker.Core.AssertLogged($"MQTT publish refused: node {Edge1} topic 'events/up/{Edge1}/#': Malformed");
        broker.Core.AssertLogged($"MQTT publish refused: node {Edge1} topic 'events/up/{Edge1}/a\\\\u0000b': Malformed");
        broker.Core.AssertLogged($"MQTT publish refused: node {Edge1} topic '$SYS/broker/version': Malformed");
        broker.Core.AssertLogged($"MQTT publish refused: node {Edge1} topic 'events/up/{Edge1}/aaaa");
        broker.Core.AssertLogged("chars)': TooLarge");
    }

    [Fact]
    public void TheLongestTopicMqttCarriesIsRefusedAsTooLarge()
    {
        string topic = $"events/up/{Edge1}/" + new string('a', 65535 - $"events/up/{Edge1}/".Length);
        var report = broker.MqttJs(Edge1, 5, Edge1 + "-64k", [Steps.PublishSigned(topic, broker.DataKey(Edge1), "{}")]);
        Assert.Equal([135], report.Puback);
        broker.Core.AssertLogged("(65535 chars)': TooLarge");
    }

    [Fact]
    public void A256KibTopicCannotBeCarriedAndIsNeverAccepted()
    {
        // MQTT's topic length field has 16 bits: 256 KiB of topic can only be sent with the length
        // wrapped (to 0 here), which leaves a PUBLISH without a topic and the rest as garbage: the
        // broker closes the connection without acknowledging anything.
        string topic = $"events/up/{Edge1}/" + new string('a', 256 * 1024 - $"events/up/{Edge1}/".Length);
        var (connack, answers, closed) = RawMqtt.Exchange(broker.Core.MqttPort, Path.Combine(broker.Dir(Edge1), "tls.crt"), Path.Combine(broker.Dir(Edge1), "tls.key"),
            broker.Core.Root, Edge1 + "-256k", RawMqtt.PublishWithWrappedTopicLength(topic, "x"u8.ToArray()));
        Assert.Equal(0, connack);
        Assert.Empty(answers);
        Assert.True(closed);
        Assert.DoesNotContain(broker.Events(), e => e.Topic.Length > 1024);
    }

    private string Signed(string node)
    {
        var r = broker.Core.Tapir("jws", "sign", "--flattened", "--key", Path.Combine(broker.Dir(node), "datakey.jwk"), WriteJson("{\"type\":\"new_qname\"}"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        return r.Stdout.Trim();
    }

    private string WriteJson(string json)
    {
        string path = broker.Core.File($"payload-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
