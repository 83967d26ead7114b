// The durable event log of verified edge messages (DESIGN §6.4, §7): every message an edge
// published that verified with its data key, stored byte for byte as received, in one transaction
// per batch (group commit) before its PUBACK. Also the broker's side of the aggregates outbox
// (aggregate_events, AggregateDatabase.cs): read pending rows, mark them published.
using Microsoft.Data.Sqlite;

namespace Tapir.Storage;

public sealed record MqttEvent(string Node, string Topic, byte[] Message, long ReceivedAt);

public static class MqttEventLog
{
    /// <summary>Migration 5. received_at is Unix milliseconds; message is the JWS exactly as published.</summary>
    public const string Schema = """
        CREATE TABLE mqtt_events (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          node TEXT NOT NULL,
          topic TEXT NOT NULL,
          message BLOB NOT NULL,
          received_at INTEGER NOT NULL);
        CREATE INDEX mqtt_events_node ON mqtt_events(node, seq);
        """;

    /// <summary>Inserts the events in one transaction (synchronous=FULL: durable once this returns).</summary>
    public static void InsertBatch(SqliteConnection db, IReadOnlyList<MqttEvent> events)
    {
        using var tx = db.BeginTransaction();
        using var cmd = db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO mqtt_events (node, topic, message, received_at) VALUES ($n, $t, $m, $r)";
        var node = cmd.Parameters.Add("$n", SqliteType.Text);
        var topic = cmd.Parameters.Add("$t", SqliteType.Text);
        var message = cmd.Parameters.Add("$m", SqliteType.Blob);
        var received = cmd.Parameters.Add("$r", SqliteType.Integer);
        foreach (var e in events)
        {
            (node.Value, topic.Value, message.Value, received.Value) = (e.Node, e.Topic, e.Message, e.ReceivedAt);
            cmd.ExecuteNonQuery();
        }
        tx.Commit();
    }

    public static IReadOnlyList<MqttEvent> List(SqliteConnection db)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT node, topic, message, received_at FROM mqtt_events ORDER BY seq";
        using var r = cmd.ExecuteReader();
        var list = new List<MqttEvent>();
        while (r.Read())
        {
            list.Add(new(r.GetString(0), r.GetString(1), (byte[])r[2], r.GetInt64(3)));
        }
        return list;
    }

    /// <summary>Signed new_aggregate events not yet published, oldest first.</summary>
    public static IReadOnlyList<OutboxMessage> PendingAggregateEvents(SqliteConnection db, int limit = 256)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT seq, topic, message FROM aggregate_events WHERE published_at IS NULL ORDER BY seq LIMIT $l";
        cmd.Parameters.AddWithValue("$l", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<OutboxMessage>();
        while (r.Read())
        {
            list.Add(new(r.GetInt64(0), r.GetString(1), System.Text.Encoding.UTF8.GetBytes(r.GetString(2)), false, 0));
        }
        return list;
    }

    public static void MarkAggregateEventPublished(SqliteConnection db, long seq, DateTimeOffset now)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "UPDATE aggregate_events SET published_at = $p WHERE seq = $s";
        cmd.Parameters.AddWithValue("$p", now.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$s", seq);
        cmd.ExecuteNonQuery();
    }

    /// <summary>The newest published retained message of each topic, to restore the broker's retained store at start.</summary>
    public static IReadOnlyList<OutboxMessage> RetainedMessages(SqliteConnection db)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = """
            SELECT seq, topic, message, retain, created_at FROM mqtt_outbox
            WHERE seq IN (SELECT max(seq) FROM mqtt_outbox WHERE retain = 1 AND published_at IS NOT NULL GROUP BY topic) ORDER BY seq
            """;
        using var r = cmd.ExecuteReader();
        var list = new List<OutboxMessage>();
        while (r.Read())
        {
            list.Add(new(r.GetInt64(0), r.GetString(1), (byte[])r[2], true, r.GetInt64(4)));
        }
        return list;
    }

    /// <summary>Names of nodes that are removed (their broker sessions must go).</summary>
    public static HashSet<string> RemovedNodes(SqliteConnection db)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT name FROM nodes WHERE state = 'removed'";
        using var r = cmd.ExecuteReader();
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (r.Read())
        {
            set.Add(r.GetString(0));
        }
        return set;
    }
}
