// The core's SQLite schema (DESIGN §7) and the statements the CA and the node lifecycle run.
// Every multi-row change is one transaction; callers in `core serve` hold the writer lock.
using Microsoft.Data.Sqlite;

namespace Tapir.Storage;

public sealed record NodeRecord(string Name, string State, long CreatedAt, string? EnrollmentKid, byte[]? EnrollmentSecret,
    long? EnrollmentExpires, string? DataKey, string? DataKeyAlg, string? DataKeyThumbprint, long? EnrolledAt, long? RemovedAt);

public sealed record CertificateRecord(string Serial, string Node, long NotBefore, long NotAfter, long? RevokedAt);

public enum RenewalCommit
{
    Done,
    Replayed,
    NotEnrolled,
}

public static class CoreDatabase
{
    public const string FileName = "tapir.db";

    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE nodes (
          name TEXT PRIMARY KEY,
          state TEXT NOT NULL CHECK (state IN ('created', 'enrolled', 'removed')),
          created_at INTEGER NOT NULL,
          enrollment_kid TEXT, enrollment_secret BLOB, enrollment_expires INTEGER,
          data_key TEXT, data_key_alg TEXT, data_key_thumbprint TEXT,
          enrolled_at INTEGER, removed_at INTEGER);
        CREATE TABLE certificates (
          serial TEXT PRIMARY KEY,
          node TEXT NOT NULL REFERENCES nodes(name),
          not_before INTEGER NOT NULL, not_after INTEGER NOT NULL,
          pem TEXT NOT NULL, revoked_at INTEGER);
        CREATE INDEX certificates_node ON certificates(node);
        CREATE TABLE renewal_requests (digest BLOB PRIMARY KEY, node TEXT NOT NULL, expires INTEGER NOT NULL);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
        // Renewal replay protection by the payload's timestamp, not the signature's bytes (issue 9).
        """
        ALTER TABLE nodes ADD COLUMN renewal_timestamp INTEGER;
        DROP TABLE renewal_requests;
        """,
        // Aggregates (issue 10): see AggregateDatabase.cs.
        AggregateDatabase.Schema,
        // The MQTT outbox (issue 11): see MqttOutbox.cs.
        MqttOutbox.Schema,
        // The event log of verified edge MQTT messages (issue 11): see MqttEventLog.cs.
        MqttEventLog.Schema,
        // Core data keys and node configurations (issue 11, core publishing): see CoreKeyStore.cs and
        // NodeConfigurationStore.cs. Migration 6.
        CoreKeyStore.Schema + NodeConfigurationStore.Schema,
    ];

    /// <summary>
    /// Opens the core database. It holds the pending enrollment secrets (HS256 keys), so it is
    /// created owner-only (SQLite gives its -wal and -shm files the same mode) and, like a private
    /// key file, refused when group or others can reach it or its -wal/-shm files.
    /// </summary>
    public static SqliteConnection Open(string path)
    {
        try
        {
            using var created = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
        }
        catch (IOException) when (File.Exists(path))
        {
            foreach (string file in new[] { path, path + "-wal", path + "-shm" }.Where(File.Exists))
            {
                var mode = File.GetUnixFileMode(file);
                if ((mode & PrivateKeyFile.GroupOrOther) != 0)
                {
                    throw new TapirException($"database {file} holds enrollment secrets and is accessible by group or others (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); run 'chmod 600 {file}'.");
                }
            }
        }
        return Database.Open(path, Migrations);
    }

    public static void AddNode(SqliteConnection db, SqliteTransaction? transaction, string name, string kid, byte[] secret, DateTimeOffset now, DateTimeOffset expires) =>
        Execute(db, transaction, "INSERT INTO nodes (name, state, created_at, enrollment_kid, enrollment_secret, enrollment_expires) VALUES ($n, 'created', $c, $k, $s, $e)",
            ("$n", name), ("$c", now.ToUnixTimeSeconds()), ("$k", kid), ("$s", secret), ("$e", expires.ToUnixTimeSeconds()));

    public static NodeRecord? GetNode(SqliteConnection db, string name, SqliteTransaction? transaction = null) =>
        Nodes(db, transaction, "WHERE name = $n", ("$n", name)).SingleOrDefault();

    public static IReadOnlyList<NodeRecord> ListNodes(SqliteConnection db) => Nodes(db, null, "ORDER BY name");

    public static IReadOnlyList<CertificateRecord> Certificates(SqliteConnection db, string? node = null)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT serial, node, not_before, not_after, revoked_at FROM certificates" + (node is null ? "" : " WHERE node = $n") + " ORDER BY not_before";
        if (node is not null)
        {
            cmd.Parameters.AddWithValue("$n", node);
        }
        using var reader = cmd.ExecuteReader();
        var list = new List<CertificateRecord>();
        while (reader.Read())
        {
            list.Add(new(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetInt64(4)));
        }
        return list;
    }

    /// <summary>Enrollment in one transaction: certificate, data key, state, secret deleted (DESIGN §4.2).</summary>
    public static bool CompleteEnrollment(SqliteConnection db, string name, string dataKey, string alg, string thumbprint, CertificateRecord certificate, string pem, DateTimeOffset now)
    {
        using var tx = db.BeginTransaction();
        int changed = Execute(db, tx, "UPDATE nodes SET state = 'enrolled', data_key = $k, data_key_alg = $a, data_key_thumbprint = $t, enrolled_at = $now, enrollment_kid = NULL, enrollment_secret = NULL, enrollment_expires = NULL WHERE name = $n AND state = 'created'",
            ("$k", dataKey), ("$a", alg), ("$t", thumbprint), ("$now", now.ToUnixTimeSeconds()), ("$n", name));
        if (changed != 1)
        {
            return false; // someone else enrolled or removed the node meanwhile
        }
        InsertCertificate(db, tx, certificate, pem);
        tx.Commit();
        return true;
    }

    /// <summary>Records a renewal's certificate when its signed timestamp (Unix milliseconds) is later than
    /// every renewal the node made before: a replay carries the same timestamp however its signature is
    /// re-encoded, and the last one is stored, so a restart does not reopen the window. The certificates
    /// the new one supersedes are revoked in the same transaction.</summary>
    public static RenewalCommit CompleteRenewal(SqliteConnection db, string name, long signedAt, CertificateRecord certificate, string pem, DateTimeOffset now)
    {
        using var tx = db.BeginTransaction();
        if (Execute(db, tx, "UPDATE nodes SET renewal_timestamp = $t WHERE name = $n AND state = 'enrolled' AND (renewal_timestamp IS NULL OR renewal_timestamp < $t)", ("$t", signedAt), ("$n", name)) != 1)
        {
            // Not updated: the node was removed meanwhile, or the timestamp is not new.
            bool enrolled = Execute(db, tx, "UPDATE nodes SET state = state WHERE name = $n AND state = 'enrolled'", ("$n", name)) == 1;
            return enrolled ? RenewalCommit.Replayed : RenewalCommit.NotEnrolled;
        }
        Execute(db, tx, "UPDATE certificates SET revoked_at = $t WHERE node = $n AND revoked_at IS NULL", ("$t", now.ToUnixTimeSeconds()), ("$n", name));
        InsertCertificate(db, tx, certificate, pem);
        tx.Commit();
        return RenewalCommit.Done;
    }

    /// <summary>Removes the node and revokes its certificates; <paramref name="also"/> runs in the same transaction when it did.</summary>
    public static bool RemoveNode(SqliteConnection db, string name, DateTimeOffset now, Action<SqliteTransaction>? also = null)
    {
        using var tx = db.BeginTransaction();
        long t = now.ToUnixTimeSeconds();
        int changed = Execute(db, tx, "UPDATE nodes SET state = 'removed', removed_at = $t, enrollment_kid = NULL, enrollment_secret = NULL, enrollment_expires = NULL WHERE name = $n AND state != 'removed'", ("$t", t), ("$n", name));
        Execute(db, tx, "UPDATE certificates SET revoked_at = $t WHERE node = $n AND revoked_at IS NULL", ("$t", t), ("$n", name));
        if (changed == 1)
        {
            also?.Invoke(tx);
        }
        tx.Commit();
        return changed == 1;
    }

    /// <summary>Serials of certificates that may still be used: issued here, not revoked, node enrolled.</summary>
    public static HashSet<string> ValidSerials(SqliteConnection db)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT c.serial FROM certificates c JOIN nodes n ON n.name = c.node WHERE c.revoked_at IS NULL AND n.state = 'enrolled'";
        using var reader = cmd.ExecuteReader();
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            set.Add(reader.GetString(0));
        }
        return set;
    }

    public static IReadOnlyList<(string Serial, long RevokedAt)> Revoked(SqliteConnection db)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT serial, revoked_at FROM certificates WHERE revoked_at IS NOT NULL ORDER BY revoked_at";
        using var reader = cmd.ExecuteReader();
        var list = new List<(string, long)>();
        while (reader.Read())
        {
            list.Add((reader.GetString(0), reader.GetInt64(1)));
        }
        return list;
    }

    /// <summary>
    /// The next CRL number (RFC 5280 §5.2.3), kept in meta: one more than the last, and never below
    /// <paramref name="atLeast"/> (the current Unix time), so numbers keep rising past those of
    /// cores that numbered CRLs by the second.
    /// </summary>
    public static long NextCrlNumber(SqliteConnection db, long atLeast)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = """
            INSERT INTO meta (key, value) VALUES ('crl_number', $floor)
            ON CONFLICT (key) DO UPDATE SET value = max(CAST(value AS INTEGER) + 1, $floor)
            RETURNING CAST(value AS INTEGER)
            """;
        cmd.Parameters.AddWithValue("$floor", atLeast);
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void InsertCertificate(SqliteConnection db, SqliteTransaction tx, CertificateRecord c, string pem) =>
        Execute(db, tx, "INSERT INTO certificates (serial, node, not_before, not_after, pem) VALUES ($s, $n, $b, $a, $p)",
            ("$s", c.Serial), ("$n", c.Node), ("$b", c.NotBefore), ("$a", c.NotAfter), ("$p", pem));

    private static IReadOnlyList<NodeRecord> Nodes(SqliteConnection db, SqliteTransaction? transaction, string where, params (string, object)[] parameters)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction ??= transaction; // CreateCommand already joined the connection's pending transaction, if any
        cmd.CommandText = "SELECT name, state, created_at, enrollment_kid, enrollment_secret, enrollment_expires, data_key, data_key_alg, data_key_thumbprint, enrolled_at, removed_at FROM nodes " + where;
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        using var r = cmd.ExecuteReader();
        var list = new List<NodeRecord>();
        while (r.Read())
        {
            list.Add(new(r.GetString(0), r.GetString(1), r.GetInt64(2), Str(r, 3), r.IsDBNull(4) ? null : (byte[])r[4], Long(r, 5), Str(r, 6), Str(r, 7), Str(r, 8), Long(r, 9), Long(r, 10)));
        }
        return list;
    }

    private static string? Str(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static long? Long(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);

    private static int Execute(SqliteConnection db, SqliteTransaction? tx, string sql, params (string, object)[] parameters)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        return cmd.ExecuteNonQuery();
    }
}
