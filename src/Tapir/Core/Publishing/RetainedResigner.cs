// When a core data key is retired (DESIGN §6.5), the retained messages it signed would stop
// verifying at every edge that receives them later. Inside the retiring transaction this re-signs,
// with the current key, the same payload bytes of: every stored node configuration it signed
// (updating the stored copy too), and the latest retained message of every other topic in the
// outbox when that one carries its kid, and queues each again, retained, on its topic. The trusted
// JWKS is not among them: retire queues a new one itself.
using Microsoft.Data.Sqlite;
using Tapir.Core.Nodes;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Core.Publishing;

public static class RetainedResigner
{
    /// <summary>How many messages were queued again.</summary>
    public static int Resign(SqliteConnection db, SqliteTransaction tx, string retiringKid, Jwk current, DateTimeOffset now)
    {
        var done = new HashSet<string>(StringComparer.Ordinal) { KeyRotation.JwksTopic };
        foreach (var configuration in NodeConfigurationStore.SignedBy(db, tx, retiringKid))
        {
            string topic = NodeConfigurations.Topic(configuration.Node);
            byte[] message = CoreSigner.Sign(PayloadOf(configuration.Message), current);
            NodeConfigurationStore.Put(db, tx, configuration.Node, message, current.Kid!, now);
            MqttOutbox.Enqueue(db, tx, topic, message, retain: true, now);
            done.Add(topic);
        }
        int count = done.Count - 1;
        foreach (var (topic, message) in LatestRetained(db, tx).Where(m => !done.Contains(m.Topic) && KeyRotation.SignedBy(m.Message, retiringKid)))
        {
            MqttOutbox.Enqueue(db, tx, topic, CoreSigner.Sign(PayloadOf(message), current), retain: true, now);
            count++;
        }
        return count;
    }

    private static byte[] PayloadOf(byte[] message) =>
        JwsParser.TryParse(message, JwsParser.DefaultMaxBytes, out var jws, out var why)
            ? jws.Payload
            : throw new TapirException($"a stored signed message is not a JWS ({why}); the database is damaged.");

    private static List<(string Topic, byte[] Message)> LatestRetained(SqliteConnection db, SqliteTransaction tx)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT topic, message FROM mqtt_outbox WHERE seq IN (SELECT max(seq) FROM mqtt_outbox WHERE retain = 1 GROUP BY topic) ORDER BY seq";
        using var r = cmd.ExecuteReader();
        var list = new List<(string, byte[])>();
        while (r.Read())
        {
            list.Add((r.GetString(0), (byte[])r[1]));
        }
        return list;
    }
}
