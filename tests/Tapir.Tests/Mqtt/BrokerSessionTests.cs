// Node removal and the core's outboxes through the broker (issue 11, DESIGN §3, §6.5, §8.4): a
// removed node's persistent QoS 1 session is closed within 2 s of `tapir core node remove` (another
// process), its reconnect is refused, and nothing queued for it arrives later; rows of the MQTT
// outbox are published (retained where asked) and marked published, and survive a restart.
using System.Diagnostics;
using System.Text;
using static Tapir.Tests.Mqtt.BrokerCore;

namespace Tapir.Tests.Mqtt;

public sealed class BrokerSessionTests(BrokerCore broker) : IClassFixture<BrokerCore>
{
    [Fact]
    public void ARemovedNodesPersistentSessionIsClosedWithinTwoSecondsAndNeverResumed()
    {
        // A persistent QoS 1 subscriber (mosquitto_sub -c, MQTT 5 with a session expiry), running until the broker closes it.
        using var sub = broker.Subscriber(Edge3, "mqttv5", Edge3, "config/down/#", "-c", "-x", "3600");
        var removedAt = Stopwatch.StartNew();
        var r = broker.Core.Tapir("core", "node", "remove", Edge3);
        Assert.True(r.ExitCode == 0, r.Stderr);
        // Closed by the broker: mosquitto_sub (no reconnect for a refused session) exits. 2 s from the removal's start, plus scheduling slack of the wait itself.
        bool closed = sub.Process.WaitForExit(TimeSpan.FromMilliseconds(Math.Max(0, 2000 - removedAt.ElapsedMilliseconds)));
        Assert.True(closed, $"mosquitto_sub still connected {removedAt.ElapsedMilliseconds} ms after `core node remove` began:\n{sub.Output}");
        broker.Core.AssertLogged($"MQTT session '{Edge3}' of removed node {Edge3} closed and deleted");

        // Messages published meanwhile (outbox, QoS 1) would be queued for a live persistent session.
        broker.Enqueue("config/down/after-removal", Encoding.UTF8.GetBytes("queued?"), retain: false);
        Thread.Sleep(500);
        var again = broker.Mosquitto("mosquitto_sub", Edge3, "mqttv5", "-i", Edge3, "-c", "-x", "3600", "-q", "1", "-t", "config/down/#", "-W", "2", "-v");
        Assert.NotEqual(0, again.ExitCode);
        Assert.DoesNotContain("received CONNACK", again.Stdout);
        Assert.DoesNotContain("queued?", again.Stdout);
        broker.Core.AssertLogged("MQTT TLS handshake refused: client certificate CN=edge3.example.net");
        broker.Core.AssertLogged("(CertificateRevoked)");
    }

    [Fact]
    public void AStoredAggregatesSignedEventReachesACoreRoleOnAggregates()
    {
        using var listener = broker.Subscriber(Reader, "mqttv311", Reader + "-aggregates", "aggregates");
        string file = broker.Core.File("aggregate.bin");
        File.WriteAllBytes(file, System.Security.Cryptography.RandomNumberGenerator.GetBytes(512));
        var r = broker.Core.Tapir("edge", "submit", file, "--type", "test", "--content-type", "application/binary", "--state", broker.Dir(Edge1));
        Assert.True(r.ExitCode == 0, r.Stderr + broker.Core.LogText);
        listener.WaitFor("aggregates {");
    }

    [Fact]
    public void RetainedMessagesAndUnpublishedRowsSurviveARestart()
    {
        WaitPublished(broker.Enqueue("config/down/restart", Encoding.UTF8.GetBytes("kept-over-restart"), retain: true));
        broker.Core.Stop();
        broker.Core.AssertLogged("MQTT broker stopped (");
        long waiting = broker.Enqueue("config/down/while-down", Encoding.UTF8.GetBytes("queued-while-down"), retain: true);
        broker.Core.Start();
        using var listener = broker.Subscriber(Edge1, "mqttv311", Edge1 + "-restart", "config/down/#");
        listener.WaitFor("config/down/restart kept-over-restart");
        listener.WaitFor("config/down/while-down queued-while-down");
        WaitPublished(waiting);
    }

    /// <summary>The row is marked published right after the broker took it: wait for the mark, at most 5 s.</summary>
    private void WaitPublished(long seq)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (broker.PublishedAt(seq) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"outbox row {seq} was not marked published");
            Thread.Sleep(50);
        }
    }

    [Fact]
    public void OutboxRowsArePublishedRetainedWhereAskedAndMarked()
    {
        using var listener = broker.Subscriber(Edge2, "mqttv5", Edge2 + "-outbox", "config/down/#");
        long live = broker.Enqueue("config/down/notice", Encoding.UTF8.GetBytes("signed-notice"), retain: false);
        long kept = broker.Enqueue("config/down/jwks", Encoding.UTF8.GetBytes("signed-jwks"), retain: true);
        listener.WaitFor("config/down/notice signed-notice");
        listener.WaitFor("config/down/jwks signed-jwks");
        WaitPublished(live);
        WaitPublished(kept);
        // A subscriber arriving later gets the retained one only (MQTT 3.1.1 here).
        var later = broker.MqttJs(Edge1, 4, Edge1 + "-late", [Steps.Subscribe("config/down/notice", 1), Steps.Subscribe("config/down/jwks", 1), Steps.Wait(500)]);
        var retained = Assert.Single(later.Messages);
        Assert.Equal(("config/down/jwks", "signed-jwks"), (retained.Topic, retained.Payload));
    }
}
