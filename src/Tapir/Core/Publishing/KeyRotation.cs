// Core data key rotation (DESIGN §6.5). The trusted JWKS travels retained on config/down/jwks as a
// flattened JWS (protected {"alg","kid"}) whose payload is the JWKS JSON itself, {"keys":[…]}: each
// key public, with kid, alg and use, oldest first. It is always signed by the key that is current
// BEFORE the change, one the edges already trust.
// rotate: new key file written whole; then one transaction queues the JWKS (old keys + new),
//   signed by the current key, and makes the new key current (the old one stays trusted).
// retire: refused for the current key (so never for the last one), and while any message the key
//   signed still waits in the outbox (above all the rotation's JWKS: an edge that trusts only the
//   old key learns the new one from it alone, so it must be out first); one transaction queues the JWKS
//   without the key, signed by the current key, re-signs the retained messages it had signed
//   (RetainedResigner), and marks it retired; its private key file is deleted after the commit.
using Microsoft.Data.Sqlite;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Core.Publishing;

public sealed record KeyChange(string SignedBy, string Kid, long Seq, int Resigned);

public static class KeyRotation
{
    public const string JwksTopic = "config/down/jwks";

    public static KeyChange Rotate(string stateDirectory, SqliteConnection db, JwsAlgorithm alg, string? curve, DateTimeOffset now)
    {
        var fresh = JwkGenerator.Generate(alg, curve);
        string file = CoreKeyRing.FileFor(fresh.Kid!);
        string path = Path.Combine(stateDirectory, file);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        PrivateKeyFile.Write(path, System.Text.Encoding.UTF8.GetBytes(fresh.ToJson(includePrivate: true) + "\n"));
        try
        {
            using var tx = db.BeginTransaction();
            var ring = CoreKeyRing.FromRecords(stateDirectory, CoreKeyStore.List(db, tx));
            if (ring.Records.Any(r => r.Kid == fresh.Kid))
            {
                throw new TapirException($"a core data key {fresh.Kid} is already recorded."); // a thumbprint collision: never expected
            }
            var trusted = new JwkSet(ring.Trusted.Keys.Append(fresh.PublicKey()));
            long seq = Enqueue(db, tx, trusted, ring.Current, now);
            CoreKeyStore.SetState(db, tx, ring.Current.Kid!, "trusted", now);
            CoreKeyStore.Insert(db, tx, fresh.Kid!, file, JwsAlgorithms.Name(alg), "current", now);
            tx.Commit();
            return new KeyChange(ring.Current.Kid!, fresh.Kid!, seq, 0);
        }
        catch
        {
            File.Delete(path); // named by no committed row
            throw;
        }
    }

    public static KeyChange Retire(string stateDirectory, SqliteConnection db, string kid, DateTimeOffset now)
    {
        CoreKeyRecord record;
        KeyChange change;
        using (var tx = db.BeginTransaction())
        {
            var ring = CoreKeyRing.FromRecords(stateDirectory, CoreKeyStore.List(db, tx));
            record = ring.Records.SingleOrDefault(r => r.Kid == kid) ?? throw new TapirException($"there is no core data key {kid} (see 'tapir core key list').");
            RefuseRetiring(record, ring);
            RefuseWhileQueued(db, kid);
            var trusted = new JwkSet(ring.Trusted.Keys.Where(k => k.Kid != kid));
            long seq = Enqueue(db, tx, trusted, ring.Current, now);
            int resigned = RetainedResigner.Resign(db, tx, kid, ring.Current, now);
            CoreKeyStore.SetState(db, tx, kid, "retired", now);
            tx.Commit();
            change = new KeyChange(ring.Current.Kid!, kid, seq, resigned);
        }
        File.Delete(Path.Combine(stateDirectory, record.File));
        Posix.FsyncDirectory(Path.GetDirectoryName(Path.GetFullPath(Path.Combine(stateDirectory, record.File)))!);
        return change;
    }

    private static void RefuseRetiring(CoreKeyRecord record, CoreKeyRing ring)
    {
        if (record.State == "retired")
        {
            throw new TapirException($"core data key {record.Kid} is already retired.");
        }
        if (ring.Trusted.Keys.Count == 1)
        {
            throw new TapirException($"core data key {record.Kid} is the last trusted key; refusing to retire it (edges would trust no core key).");
        }
        if (record.State == "current")
        {
            throw new TapirException($"core data key {record.Kid} is the current signing key; run 'tapir core key rotate' first, then retire it.");
        }
    }

    private static void RefuseWhileQueued(SqliteConnection db, string kid)
    {
        var waiting = MqttOutbox.Pending(db, int.MaxValue).Where(m => SignedBy(m.Message, kid)).ToList();
        if (waiting.Count > 0)
        {
            throw new TapirException($"{waiting.Count} queued messages signed by {kid} are not published yet (the first: seq {waiting[0].Seq} on {waiting[0].Topic}); " +
                "edges need them before the key goes: let 'tapir core serve' publish them, then retire it.");
        }
    }

    internal static bool SignedBy(byte[] message, string kid) =>
        message.Length > 0 && JwsParser.TryParse(message, JwsParser.DefaultMaxBytes, out var jws, out _) && jws.Signatures is [{ Kid: var signer }] && signer == kid;

    private static long Enqueue(SqliteConnection db, SqliteTransaction tx, JwkSet trusted, Jwk signer, DateTimeOffset now) =>
        MqttOutbox.Enqueue(db, tx, JwksTopic, CoreSigner.Sign(System.Text.Encoding.UTF8.GetBytes(trusted.ToJson()), signer), retain: true, now);
}
