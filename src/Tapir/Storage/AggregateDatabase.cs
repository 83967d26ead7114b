// The aggregates table (DESIGN §5.3, §5.4, §7): one row per accepted submission holding, byte for
// byte, what re-verification needs years later: the raw Signature-Input and Signature fields, each
// covered component's value, the exact signature base, the creator's data key and thumbprint as
// verified, the digest, and the payload itself (inline) or the path of its file. A creator stores
// a given payload (by SHA-256) once: (creator, sha256) is unique. aggregate_events is the durable
// outbox of signed new_aggregate events, written in the row's transaction, published by the MQTT
// issue (published_at stays NULL until then).
using Microsoft.Data.Sqlite;

namespace Tapir.Storage;

public sealed record AggregateRecord(
    string Id,
    string Type,
    string Creator,
    long ReceivedAt,
    string ContentType,
    long ContentLength,
    string ContentDigest,
    byte[] Sha256,
    string? Interval,
    string SignatureInput,
    string Signature,
    string SignatureLabel,
    string Components,
    byte[] SignatureBase,
    string DataKey,
    string DataKeyThumbprint,
    string? PayloadPath);

public static class AggregateDatabase
{
    /// <summary>Migration 3. received_at is Unix milliseconds; components is a JSON array of [identifier, value] pairs.</summary>
    public const string Schema = """
        CREATE TABLE aggregates (
          id TEXT PRIMARY KEY,
          type TEXT NOT NULL,
          creator TEXT NOT NULL REFERENCES nodes(name),
          received_at INTEGER NOT NULL,
          content_type TEXT NOT NULL,
          content_length INTEGER NOT NULL,
          content_digest TEXT NOT NULL,
          sha256 BLOB NOT NULL,
          interval TEXT,
          signature_input TEXT NOT NULL,
          signature TEXT NOT NULL,
          signature_label TEXT NOT NULL,
          components TEXT NOT NULL,
          signature_base BLOB NOT NULL,
          data_key TEXT NOT NULL,
          data_key_thumbprint TEXT NOT NULL,
          payload BLOB,
          payload_path TEXT,
          CHECK ((payload IS NULL) != (payload_path IS NULL)),
          UNIQUE (creator, sha256));
        CREATE INDEX aggregates_received ON aggregates(received_at);
        CREATE TABLE aggregate_events (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          aggregate_id TEXT NOT NULL REFERENCES aggregates(id),
          topic TEXT NOT NULL,
          message TEXT NOT NULL,
          published_at INTEGER);
        """;

    private const string Columns = "id, type, creator, received_at, content_type, content_length, content_digest, sha256, interval, signature_input, signature, signature_label, components, signature_base, data_key, data_key_thumbprint, payload_path";

    /// <summary>The id already stored for this creator and payload, if any (idempotent resubmission).</summary>
    public static string? Existing(SqliteConnection db, string creator, byte[] sha256)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT id FROM aggregates WHERE creator = $c AND sha256 = $d";
        cmd.Parameters.AddWithValue("$c", creator);
        cmd.Parameters.AddWithValue("$d", sha256);
        return cmd.ExecuteScalar() as string;
    }

    private static readonly string[] InsertParameters = ["$id", "$type", "$creator", "$received", "$ct", "$cl", "$cd", "$sha", "$interval", "$si", "$sig", "$label", "$components", "$base", "$key", "$thumb", "$path", "$payload"];

    /// <summary>Inserts the rows in one transaction (two statements, each prepared once per batch);
    /// for each row, false when its creator already stored the payload.</summary>
    public static bool[] InsertBatch(SqliteConnection db, IReadOnlyList<(AggregateRecord Record, byte[]? Payload, string Event)> rows)
    {
        var inserted = new bool[rows.Count];
        using var tx = db.BeginTransaction();
        using var cmd = db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"INSERT INTO aggregates ({Columns}, payload) VALUES ({string.Join(", ", InsertParameters)}) ON CONFLICT (creator, sha256) DO NOTHING";
        var p = InsertParameters.Select(name => cmd.Parameters.Add(new SqliteParameter { ParameterName = name })).ToArray();
        using var outbox = db.CreateCommand();
        outbox.Transaction = tx;
        outbox.CommandText = "INSERT INTO aggregate_events (aggregate_id, topic, message) VALUES ($id, 'aggregates', $m)";
        var eventId = outbox.Parameters.Add(new SqliteParameter { ParameterName = "$id" });
        var eventMessage = outbox.Parameters.Add(new SqliteParameter { ParameterName = "$m" });
        for (int i = 0; i < rows.Count; i++)
        {
            var (a, payload, message) = rows[i];
            object?[] values = [a.Id, a.Type, a.Creator, a.ReceivedAt, a.ContentType, a.ContentLength, a.ContentDigest, a.Sha256, a.Interval, a.SignatureInput,
                a.Signature, a.SignatureLabel, a.Components, a.SignatureBase, a.DataKey, a.DataKeyThumbprint, a.PayloadPath, payload];
            for (int v = 0; v < values.Length; v++)
            {
                p[v].Value = values[v] ?? DBNull.Value;
            }
            inserted[i] = cmd.ExecuteNonQuery() == 1;
            if (inserted[i])
            {
                eventId.Value = a.Id;
                eventMessage.Value = message;
                outbox.ExecuteNonQuery();
            }
        }
        tx.Commit();
        return inserted;
    }

    public static AggregateRecord? Get(SqliteConnection db, string id) => Select(db, "WHERE id = $id", ("$id", id)).SingleOrDefault();

    /// <summary>Rows in received order, optionally of one creator and received at or after a time (Unix ms).</summary>
    public static IReadOnlyList<AggregateRecord> List(SqliteConnection db, string? creator = null, long? since = null)
    {
        var where = new List<string>();
        var parameters = new List<(string, object)>();
        if (creator is not null)
        {
            where.Add("creator = $c");
            parameters.Add(("$c", creator));
        }
        if (since is long s)
        {
            where.Add("received_at >= $s");
            parameters.Add(("$s", s));
        }
        return Select(db, (where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where)) + " ORDER BY received_at, id", [.. parameters]);
    }

    /// <summary>The inline payload, or null when the payload lives in its file.</summary>
    public static byte[]? InlinePayload(SqliteConnection db, string id)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT payload FROM aggregates WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id);
        return cmd.ExecuteScalar() as byte[];
    }

    /// <summary>The outbox: (aggregate id, topic, signed message) not yet published, in order.</summary>
    public static IReadOnlyList<(string AggregateId, string Topic, string Message)> PendingEvents(SqliteConnection db)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT aggregate_id, topic, message FROM aggregate_events WHERE published_at IS NULL ORDER BY seq";
        using var r = cmd.ExecuteReader();
        var list = new List<(string, string, string)>();
        while (r.Read())
        {
            list.Add((r.GetString(0), r.GetString(1), r.GetString(2)));
        }
        return list;
    }

    /// <summary>Every payload file path the rows name (for the start-up check).</summary>
    public static HashSet<string> PayloadPaths(SqliteConnection db)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT payload_path FROM aggregates WHERE payload_path IS NOT NULL";
        using var r = cmd.ExecuteReader();
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (r.Read())
        {
            set.Add(r.GetString(0));
        }
        return set;
    }

    private static IReadOnlyList<AggregateRecord> Select(SqliteConnection db, string where, params (string, object)[] parameters)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM aggregates {where}";
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        using var r = cmd.ExecuteReader();
        var list = new List<AggregateRecord>();
        while (r.Read())
        {
            list.Add(new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4), r.GetInt64(5), r.GetString(6), (byte[])r[7],
                r.IsDBNull(8) ? null : r.GetString(8), r.GetString(9), r.GetString(10), r.GetString(11), r.GetString(12), (byte[])r[13],
                r.GetString(14), r.GetString(15), r.IsDBNull(16) ? null : r.GetString(16)));
        }
        return list;
    }
}
