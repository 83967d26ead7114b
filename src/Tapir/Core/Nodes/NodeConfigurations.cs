// Per-node configuration (issue 11): `tapir core node configure NAME FILE` signs FILE's JSON object
// with the current core data key (flattened JWS, protected {"alg","kid"}), stores it, and queues it
// retained on the node's configuration topic, configuration/<name>/config (the `config` topic the
// enrollment answer names), in one transaction. GET /api/v1/node/{name}/configuration serves the
// same JWS (NodeDirectory). Removing the node deletes it and queues a zero-length retained publish
// on that topic, which is how MQTT clears a retained message: that message is not a JWS and says
// only "no configuration"; an edge never acts on it as one.
using Microsoft.Data.Sqlite;
using Tapir.Core.Publishing;
using Tapir.Storage;

namespace Tapir.Core.Nodes;

public static class NodeConfigurations
{
    public static string Topic(string node) => $"configuration/{node}/config";

    /// <summary>Stores and queues the signed configuration; returns the outbox sequence number.</summary>
    public static long Configure(string stateDirectory, SqliteConnection db, string name, byte[] json, DateTimeOffset now)
    {
        CoreSigner.CheckJson(json, "the configuration", objectOnly: true);
        using var tx = db.BeginTransaction();
        var node = CoreDatabase.GetNode(db, name, tx);
        if (node is null || node.State == "removed")
        {
            throw new TapirException(node is null ? $"node {name} does not exist (add it with 'tapir core node add')." : $"node {name} is removed; it takes no configuration.");
        }
        var key = CoreKeyRing.FromRecords(stateDirectory, CoreKeyStore.List(db, tx)).Current;
        byte[] message = CoreSigner.Sign(json, key);
        NodeConfigurationStore.Put(db, tx, name, message, key.Kid!, now);
        long seq = MqttOutbox.Enqueue(db, tx, Topic(name), message, retain: true, now);
        tx.Commit();
        return seq;
    }

    /// <summary>Inside the removal's transaction: drops the stored configuration and clears the retained one.</summary>
    public static void Drop(SqliteConnection db, SqliteTransaction tx, string name, DateTimeOffset now)
    {
        if (NodeConfigurationStore.Delete(db, tx, name))
        {
            MqttOutbox.Enqueue(db, tx, Topic(name), [], retain: true, now);
        }
    }
}
