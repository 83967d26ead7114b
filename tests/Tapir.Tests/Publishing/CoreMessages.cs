// Test helpers for the core's signed MQTT messages: the outbox rows of a state directory, a core
// data key read from its file, and checking one message: flattened JWS, protected header exactly
// {"alg","kid"}, signature valid under the given public key; returns the payload bytes.
using Tapir.Security.Encoding;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Tests.Publishing;

internal static class CoreMessages
{
    /// <summary>Every outbox row, published or not, oldest first.</summary>
    public static IReadOnlyList<OutboxMessage> Outbox(string stateDir)
    {
        using var db = CoreDatabase.Open(Path.Combine(stateDir, CoreDatabase.FileName));
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT seq, topic, message, retain, created_at FROM mqtt_outbox ORDER BY seq";
        using var r = cmd.ExecuteReader();
        var list = new List<OutboxMessage>();
        while (r.Read())
        {
            list.Add(new(r.GetInt64(0), r.GetString(1), (byte[])r[2], r.GetInt64(3) == 1, r.GetInt64(4)));
        }
        return list;
    }

    /// <summary>Plays the running core's broker: marks every queued row published.</summary>
    public static void PublishAll(string stateDir)
    {
        using var db = CoreDatabase.Open(Path.Combine(stateDir, CoreDatabase.FileName));
        foreach (var m in MqttOutbox.Pending(db, 10_000))
        {
            MqttOutbox.MarkPublished(db, m.Seq, DateTimeOffset.UtcNow);
        }
    }

    public static IReadOnlyList<CoreKeyRecord> KeyRecords(string stateDir)
    {
        using var db = CoreDatabase.Open(Path.Combine(stateDir, CoreDatabase.FileName));
        return CoreKeyStore.List(db);
    }

    /// <summary>The public half of the core key in that file (core-data.jwk or core-keys/KID.jwk).</summary>
    public static Jwk PublicKey(string stateDir, string file)
    {
        Assert.True(JwkParser.TryParse(File.ReadAllBytes(Path.Combine(stateDir, file)), out var key, out var why), why.ToString());
        return key.PublicKey();
    }

    public static Jwk CurrentPublicKey(string stateDir)
    {
        var current = KeyRecords(stateDir).Single(r => r.State == "current");
        return PublicKey(stateDir, current.File);
    }

    public static byte[] Verify(byte[] message, Jwk publicKey)
    {
        Assert.StartsWith("{\"payload\":", System.Text.Encoding.UTF8.GetString(message));
        Assert.True(JwsParser.TryParse(message, JwsParser.DefaultMaxBytes, out var jws, out var why), $"not a JWS: {why}");
        Assert.Equal(JwsSerialization.Flattened, jws.Serialization);
        var signature = Assert.Single(jws.Signatures);
        Assert.True(Base64Url.TryDecode(signature.ProtectedB64, out var header));
        Assert.Equal($"{{\"alg\":\"{JwsAlgorithms.Name(publicKey.Alg!.Value)}\",\"kid\":\"{publicKey.Kid}\"}}", System.Text.Encoding.UTF8.GetString(header));
        Assert.True(JwsVerifier.TryVerifySignature(jws, signature, publicKey, JwsAlgorithms.Asymmetric, out why), $"does not verify with {publicKey.Kid}: {why}");
        return jws.Payload;
    }

    /// <summary>True when the message's one signature verifies with the key (no header check).</summary>
    public static bool VerifiesWith(byte[] message, Jwk publicKey) =>
        JwsParser.TryParse(message, JwsParser.DefaultMaxBytes, out var jws, out _)
        && JwsVerifier.TryVerifySignature(jws, jws.Signatures[0], publicKey, JwsAlgorithms.Asymmetric, out _);

    public static JwkSet Jwks(byte[] payload)
    {
        Assert.True(JwkSet.TryParse(payload, out var set, out var why), $"payload is not a JWKS: {why}");
        return set;
    }
}
