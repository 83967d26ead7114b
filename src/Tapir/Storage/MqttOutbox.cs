// The durable MQTT outbox (DESIGN §6.5, §7): signed messages the core publishes (core publish, node
// configurations, the trusted JWKS). A row is written by whoever holds the state directory (the
// running core or a `tapir core …` command) and published by the running core's broker, which then
// sets published_at. Nothing is lost while the broker is down: rows wait until it runs.
using Microsoft.Data.Sqlite;

namespace Tapir.Storage;

public sealed record OutboxMessage(long Seq, string Topic, byte[] Message, bool Retain, long CreatedAt);

public static class MqttOutbox
{
    /// <summary>Migration 4.</summary>
    public const string Schema = """
        CREATE TABLE mqtt_outbox (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          topic TEXT NOT NULL,
          message BLOB NOT NULL,
          retain INTEGER NOT NULL CHECK (retain IN (0, 1)),
          created_at INTEGER NOT NULL,
          published_at INTEGER);
        CREATE INDEX mqtt_outbox_pending ON mqtt_outbox(seq) WHERE published_at IS NULL;
        """;

    /// <summary>Queues one signed message; returns its sequence number.</summary>
    public static long Enqueue(SqliteConnection db, SqliteTransaction? transaction, string topic, byte[] message, bool retain, DateTimeOffset now)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction = transaction;
        cmd.CommandText = "INSERT INTO mqtt_outbox (topic, message, retain, created_at) VALUES ($t, $m, $r, $c) RETURNING seq";
        cmd.Parameters.AddWithValue("$t", topic);
        cmd.Parameters.AddWithValue("$m", message);
        cmd.Parameters.AddWithValue("$r", retain ? 1 : 0);
        cmd.Parameters.AddWithValue("$c", now.ToUnixTimeMilliseconds());
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>Messages not yet published, oldest first.</summary>
    public static IReadOnlyList<OutboxMessage> Pending(SqliteConnection db, int limit = 256)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT seq, topic, message, retain, created_at FROM mqtt_outbox WHERE published_at IS NULL ORDER BY seq LIMIT $l";
        cmd.Parameters.AddWithValue("$l", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<OutboxMessage>();
        while (r.Read())
        {
            list.Add(new(r.GetInt64(0), r.GetString(1), (byte[])r[2], r.GetInt64(3) == 1, r.GetInt64(4)));
        }
        return list;
    }

    public static void MarkPublished(SqliteConnection db, long seq, DateTimeOffset now)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "UPDATE mqtt_outbox SET published_at = $p WHERE seq = $s";
        cmd.Parameters.AddWithValue("$p", now.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$s", seq);
        cmd.ExecuteNonQuery();
    }

    /// <summary>When the message was published (Unix ms), or null while it waits.</summary>
    public static long? PublishedAt(SqliteConnection db, long seq)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT published_at FROM mqtt_outbox WHERE seq = $s";
        cmd.Parameters.AddWithValue("$s", seq);
        return cmd.ExecuteScalar() is long at ? at : null;
    }
}
