// The durable MQTT outbox: rows survive a reopen, come back oldest first until marked published.
using Tapir.Storage;

namespace Tapir.Tests.Storage;

public sealed class MqttOutboxTests
{
    [Fact]
    public void QueuedMessagesSurviveAReopenAndLeaveOnceMarkedPublished()
    {
        using var dir = new TempDir();
        string path = dir.File(CoreDatabase.FileName);
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_780_000_000_123);
        long first, second;
        using (var db = CoreDatabase.Open(path))
        {
            first = MqttOutbox.Enqueue(db, null, "config/down/jwks", "{\"a\":1}"u8.ToArray(), retain: true, now);
            second = MqttOutbox.Enqueue(db, null, "aggregates", "{\"b\":2}"u8.ToArray(), retain: false, now);
        }
        using (var db = CoreDatabase.Open(path))
        {
            var pending = MqttOutbox.Pending(db);
            Assert.Equal([first, second], pending.Select(m => m.Seq));
            Assert.Equal(("config/down/jwks", true, "{\"a\":1}", now.ToUnixTimeMilliseconds()),
                (pending[0].Topic, pending[0].Retain, System.Text.Encoding.UTF8.GetString(pending[0].Message), pending[0].CreatedAt));
            Assert.False(pending[1].Retain);
            Assert.Null(MqttOutbox.PublishedAt(db, first));
            MqttOutbox.MarkPublished(db, first, now.AddSeconds(1));
            Assert.Equal(now.AddSeconds(1).ToUnixTimeMilliseconds(), MqttOutbox.PublishedAt(db, first));
            Assert.Equal([second], MqttOutbox.Pending(db).Select(m => m.Seq));
        }
    }
}
