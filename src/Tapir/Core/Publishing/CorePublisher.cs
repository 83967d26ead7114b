// `tapir core publish` (issue 11): whoever can open the state directory signs a JSON document with
// the current core data key and queues it in the durable MQTT outbox, in one transaction that also
// reads which key is current (so a concurrent rotation cannot leave it signed by a key no longer
// current). The running core's broker publishes queued rows in order and sets published_at;
// WaitPublished watches for that, bounded, so the command can say which of the two happened.
using Microsoft.Data.Sqlite;
using Tapir.Storage;

namespace Tapir.Core.Publishing;

public static class CorePublisher
{
    public static long Publish(string stateDirectory, SqliteConnection db, string topic, byte[] json, bool retain, DateTimeOffset now)
    {
        if (PublishTopic.Refusal(topic) is string why)
        {
            throw new TapirException($"topic '{Printable(topic)}' refused: {why}.") { ExitCode = ExitCodes.Usage };
        }
        CoreSigner.CheckJson(json, "the message", objectOnly: false);
        using var tx = db.BeginTransaction();
        var key = CoreKeyRing.FromRecords(stateDirectory, CoreKeyStore.List(db, tx)).Current;
        long seq = MqttOutbox.Enqueue(db, tx, topic, CoreSigner.Sign(json, key), retain, now);
        tx.Commit();
        return seq;
    }

    /// <summary>True once the broker has published the row, false when the wait ran out first.</summary>
    public static bool WaitPublished(SqliteConnection db, long seq, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            if (MqttOutbox.PublishedAt(db, seq) is not null)
            {
                return true;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }
            Thread.Sleep(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>A topic as an error message may show it: control characters escaped, at most 80 characters.</summary>
    private static string Printable(string topic)
    {
        string escaped = string.Concat(topic.Take(80).Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        return topic.Length > 80 ? escaped + "…" : escaped;
    }
}
