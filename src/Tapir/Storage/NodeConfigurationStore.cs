// Stored node configurations (issue 11): per node, the signed configuration (flattened JWS bytes,
// exactly as queued retained on the node's configuration topic and served by GET
// /api/v1/node/{name}/configuration) and the kid that signed it. Dropped with the node.
using Microsoft.Data.Sqlite;

namespace Tapir.Storage;

public sealed record NodeConfigurationRecord(string Node, byte[] Message, string Kid, long UpdatedAt);

public static class NodeConfigurationStore
{
    /// <summary>Part of migration 6 (issue 11), with CoreKeyStore.Schema.</summary>
    public const string Schema = """
        CREATE TABLE node_configurations (
          node TEXT PRIMARY KEY REFERENCES nodes(name),
          message BLOB NOT NULL,
          kid TEXT NOT NULL,
          updated_at INTEGER NOT NULL);
        """;

    public static NodeConfigurationRecord? Get(SqliteConnection db, string node) => Select(db, null, "WHERE node = $v", node).SingleOrDefault();

    public static IReadOnlyList<NodeConfigurationRecord> SignedBy(SqliteConnection db, SqliteTransaction transaction, string kid) =>
        Select(db, transaction, "WHERE kid = $v ORDER BY node", kid);

    public static void Put(SqliteConnection db, SqliteTransaction transaction, string node, byte[] message, string kid, DateTimeOffset now)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction ??= transaction;
        cmd.CommandText = "INSERT INTO node_configurations (node, message, kid, updated_at) VALUES ($n, $m, $k, $t) ON CONFLICT (node) DO UPDATE SET message = $m, kid = $k, updated_at = $t";
        cmd.Parameters.AddWithValue("$n", node);
        cmd.Parameters.AddWithValue("$m", message);
        cmd.Parameters.AddWithValue("$k", kid);
        cmd.Parameters.AddWithValue("$t", now.ToUnixTimeMilliseconds());
        cmd.ExecuteNonQuery();
    }

    /// <summary>True when the node had a stored configuration.</summary>
    public static bool Delete(SqliteConnection db, SqliteTransaction transaction, string node)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction ??= transaction;
        cmd.CommandText = "DELETE FROM node_configurations WHERE node = $n";
        cmd.Parameters.AddWithValue("$n", node);
        return cmd.ExecuteNonQuery() == 1;
    }

    private static List<NodeConfigurationRecord> Select(SqliteConnection db, SqliteTransaction? transaction, string where, string value)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction ??= transaction;
        cmd.CommandText = "SELECT node, message, kid, updated_at FROM node_configurations " + where;
        cmd.Parameters.AddWithValue("$v", value);
        using var r = cmd.ExecuteReader();
        var list = new List<NodeConfigurationRecord>();
        while (r.Read())
        {
            list.Add(new(r.GetString(0), (byte[])r[1], r.GetString(2), r.GetInt64(3)));
        }
        return list;
    }
}
