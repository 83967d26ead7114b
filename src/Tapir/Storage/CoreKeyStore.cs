// The record of the core's data keys (DESIGN §6.5, §7): which private JWK file holds each key and
// its state: 'current' (signs everything the core publishes; exactly one), 'trusted' (in the
// trusted JWKS, signs nothing) or 'retired' (out of the JWKS, its file deleted). The private keys
// themselves are files (0600) in the state directory; this table is the one commit point, so a
// rotation's new key, its state change and the signed JWKS in the MQTT outbox land in one
// transaction or not at all. See Core/Publishing/CoreKeyRing.cs for the layout.
using Microsoft.Data.Sqlite;

namespace Tapir.Storage;

public sealed record CoreKeyRecord(string Kid, string File, string Alg, string State, long CreatedAt, long? RetiredAt);

public static class CoreKeyStore
{
    /// <summary>Part of migration 6 (issue 11): the key record and the stored node configurations.</summary>
    public const string Schema = """
        CREATE TABLE core_keys (
          kid TEXT PRIMARY KEY,
          file TEXT NOT NULL,
          alg TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('current', 'trusted', 'retired')),
          created_at INTEGER NOT NULL,
          retired_at INTEGER);
        CREATE UNIQUE INDEX core_keys_one_current ON core_keys(state) WHERE state = 'current';
        """;

    /// <summary>Every key ever recorded, oldest first.</summary>
    public static IReadOnlyList<CoreKeyRecord> List(SqliteConnection db, SqliteTransaction? transaction = null)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction ??= transaction;
        cmd.CommandText = "SELECT kid, file, alg, state, created_at, retired_at FROM core_keys ORDER BY created_at, rowid";
        using var r = cmd.ExecuteReader();
        var list = new List<CoreKeyRecord>();
        while (r.Read())
        {
            list.Add(new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt64(4), r.IsDBNull(5) ? null : r.GetInt64(5)));
        }
        return list;
    }

    /// <summary>Records the first key as current, only while the table is empty (one statement, so two adopters cannot both insert).</summary>
    public static void AdoptFirst(SqliteConnection db, string kid, string file, string alg, DateTimeOffset now) =>
        Execute(db, null, "INSERT INTO core_keys (kid, file, alg, state, created_at) SELECT $k, $f, $a, 'current', $c WHERE NOT EXISTS (SELECT 1 FROM core_keys)",
            ("$k", kid), ("$f", file), ("$a", alg), ("$c", now.ToUnixTimeMilliseconds()));

    public static void Insert(SqliteConnection db, SqliteTransaction transaction, string kid, string file, string alg, string state, DateTimeOffset now) =>
        Execute(db, transaction, "INSERT INTO core_keys (kid, file, alg, state, created_at) VALUES ($k, $f, $a, $s, $c)",
            ("$k", kid), ("$f", file), ("$a", alg), ("$s", state), ("$c", now.ToUnixTimeMilliseconds()));

    public static void SetState(SqliteConnection db, SqliteTransaction transaction, string kid, string state, DateTimeOffset now) =>
        Execute(db, transaction, "UPDATE core_keys SET state = $s, retired_at = CASE WHEN $s = 'retired' THEN $t ELSE NULL END WHERE kid = $k",
            ("$s", state), ("$t", now.ToUnixTimeMilliseconds()), ("$k", kid));

    private static void Execute(SqliteConnection db, SqliteTransaction? transaction, string sql, params (string, object)[] parameters)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction ??= transaction;
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        cmd.ExecuteNonQuery();
    }
}
