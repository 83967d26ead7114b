// The core's data keys as one consistent snapshot (DESIGN §6.5, §7). On disk:
//   core-data.jwk          the key `core init` made (0600), adopted as the first current key
//   core-keys/<kid>.jwk    each key `core key rotate` added (0600, directory 0700)
//   core_keys (tapir.db)   which file holds which kid and its state: current | trusted | retired
// A key file is written whole (AtomicFile) before the transaction that names it, and deleted only
// after the transaction that retires it, so the table never names a missing or half-written file;
// a file no row names is the leftover of an interrupted rotation and is never read.
// The signing key is the current one; the trusted JWKS is every key not retired, oldest first.
using Microsoft.Data.Sqlite;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Core.Publishing;

public sealed class CoreKeyRing
{
    public const string InitialFile = "core-data.jwk";
    public const string Directory = "core-keys";

    private CoreKeyRing(IReadOnlyList<CoreKeyRecord> records, Jwk current, JwkSet trusted)
    {
        Records = records;
        Current = current;
        Trusted = trusted;
    }

    public IReadOnlyList<CoreKeyRecord> Records { get; }

    /// <summary>The private key that signs.</summary>
    public Jwk Current { get; }

    /// <summary>The public keys of every key not retired.</summary>
    public JwkSet Trusted { get; }

    /// <summary>Reads the record (adopting core-data.jwk into an empty one) and every key it names as not retired.</summary>
    public static CoreKeyRing Load(string stateDirectory, SqliteConnection db, SqliteTransaction? transaction = null)
    {
        var records = CoreKeyStore.List(db, transaction);
        if (records.Count == 0 && transaction is null)
        {
            var initial = ReadKey(stateDirectory, InitialFile, expectedKid: null);
            CoreKeyStore.AdoptFirst(db, initial.Kid!, InitialFile, JwsAlgorithms.Name(initial.ImpliedAlgorithm!.Value), DateTimeOffset.UtcNow);
            records = CoreKeyStore.List(db);
        }
        return FromRecords(stateDirectory, records);
    }

    /// <summary>True when the record still says what this snapshot was built from.</summary>
    public bool Matches(IReadOnlyList<CoreKeyRecord> records) =>
        records.Count == Records.Count && records.Zip(Records).All(p => p.First.Kid == p.Second.Kid && p.First.State == p.Second.State);

    public static CoreKeyRing FromRecords(string stateDirectory, IReadOnlyList<CoreKeyRecord> records)
    {
        var live = records.Where(r => r.State != "retired").ToList();
        var current = live.SingleOrDefault(r => r.State == "current")
            ?? throw new TapirException($"{stateDirectory}: the core key record names no current data key.");
        var keys = live.Select(r => (Record: r, Key: ReadKey(stateDirectory, r.File, r.Kid))).ToList();
        return new CoreKeyRing(records, keys.Single(k => k.Record == current).Key, new JwkSet(keys.Select(k => k.Key.PublicKey())));
    }

    /// <summary>The JWKS as published: the trusted keys' public JWKs (kid, alg, use).</summary>
    public string TrustedJson => Trusted.ToJson();

    /// <summary>A key file name for a kid: kids tapir generates are RFC 7638 thumbprints (base64url), checked here anyway.</summary>
    public static string FileFor(string kid) =>
        kid.Length is > 0 and <= 128 && kid.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? Path.Combine(Directory, kid + ".jwk")
            : throw new TapirException($"core data key id '{kid}' cannot name a file.");

    private static Jwk ReadKey(string stateDirectory, string file, string? expectedKid)
    {
        string path = Path.Combine(stateDirectory, file);
        byte[] json = PrivateKeyFile.Read(path);
        if (!JwkParser.TryParse(json, out var key, out var why) || !key.HasPrivateKey || key.IsSymmetric || key.Kid is null || key.ImpliedAlgorithm is null)
        {
            throw new TapirException($"{path} is not a private asymmetric JWK with kid and alg ({why}).");
        }
        if (expectedKid is not null && key.Kid != expectedKid)
        {
            throw new TapirException($"{path} holds key {key.Kid}, but the core key record says {expectedKid}.");
        }
        return key;
    }
}
