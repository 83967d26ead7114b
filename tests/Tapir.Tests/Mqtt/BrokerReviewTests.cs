// Defects an outside review of the broker found (black box), each pinned by the exact outcome:
// a removed node's Last Will never reaches `verified/`; a client id that names another node is that
// node's alone (no session squatting on `<node>-…`); a topic whose bytes are not UTF-8 is refused
// instead of being rewritten into another topic.
using System.Text;

namespace Tapir.Tests.Mqtt;

public sealed class BrokerReviewTests
{
    [Fact]
    public void ARemovedNodesWillNeverReachesVerified()
    {
        using var broker = new BrokerCore();
        string edge = BrokerCore.Edge3;
        string json = broker.Core.File("will.json");
        File.WriteAllText(json, """{"type":"will"}""");
        var sign = broker.Core.Tapir("jws", "sign", "--key", Path.Combine(broker.Dir(edge), "datakey.jwk"), json);
        Assert.Equal(0, sign.ExitCode);
        using var reader = broker.Subscriber(BrokerCore.Reader, "mqttv5", BrokerCore.Reader, "verified/#");
        using var willing = broker.Subscriber(edge, "mqttv5", edge, "config/down/#",
            "--will-topic", $"events/up/{edge}/will", "--will-payload", sign.Stdout.Trim(), "--will-qos", "1");
        var removed = broker.Core.Tapir("core", "node", "remove", edge);
        Assert.True(removed.ExitCode == 0, removed.Stderr);
        broker.Core.AssertLogged($"MQTT publish refused: node {edge} topic 'events/up/{edge}/will': CertificateRevoked");
        Thread.Sleep(1000); // a delivery, had there been one, would have reached the reader by now
        Assert.DoesNotContain("will", reader.Output);
        Assert.DoesNotContain(broker.Events(), e => e.Node == edge);
    }

    [Theory]
    [InlineData(5, 133)]
    [InlineData(4, 2)]
    public void AClientIdNamingAnotherNodeIsThatNodesAlone(int version, int code)
    {
        using var broker = new BrokerCore();
        string squatted = BrokerCore.Edge1 + "-z";
        Assert.Equal(0, broker.Core.Tapir("core", "node", "add", squatted, "--out", broker.Core.File("z.json")).ExitCode);
        var report = broker.MqttJs(BrokerCore.Edge1, version, squatted, [], clean: false);
        Assert.Equal(code, report.Connack);
        broker.Core.AssertLogged($"MQTT connect refused: client id '{squatted}' from");
        broker.Core.AssertLogged($"client id '{squatted}' is the name of another node");
        Assert.Equal(0, broker.MqttJs(BrokerCore.Edge1, version, BrokerCore.Edge1 + "-tapir", []).Connack); // its own namespace still works
    }

    [Fact]
    public void ATopicThatIsNotUtf8IsRefused()
    {
        using var broker = new BrokerCore();
        string edge = BrokerCore.Edge1;
        byte[] topic = [.. Encoding.UTF8.GetBytes($"events/up/{edge}/"), 0xff, 0xfe];
        var (connack, answers, _) = RawMqtt.Exchange(broker.Core.MqttPort, Path.Combine(broker.Dir(edge), "tls.crt"), Path.Combine(broker.Dir(edge), "tls.key"),
            broker.Core.Root, edge, RawMqtt.PublishRawTopic(topic, "{}"u8.ToArray()));
        Assert.Equal(0, connack);
        var puback = Assert.Single(answers, a => a[0] == 0x40);
        Assert.Equal(0x87, puback[4]); // PUBACK for packet id 1: not authorized
        broker.Core.AssertLogged("Malformed: the topic is not valid UTF-8");
        Assert.Empty(broker.Events());
    }
}
