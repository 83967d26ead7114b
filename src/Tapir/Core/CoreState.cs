// The core's state directory (DESIGN §1, §7): the P-256 root (ca.key 0600, ca.crt), the TLS
// server certificate (server.key 0600, server.crt), the data-signing keys (core-data.jwk and
// core-keys/, recorded in the database: Publishing/CoreKeyRing.cs), the SQLite database and the
// aggregate store. init creates it and refuses to overwrite; the
// server certificate is renewed in place (renew-server-cert), its key and certificate swapped whole.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Data.Sqlite;
using Tapir.Config;
using Tapir.Core.Publishing;
using Tapir.Security.Jose;
using Tapir.Security.Pki;
using Tapir.Storage;

namespace Tapir.Core;

public sealed class CoreState : IDisposable
{
    private CoreKeyRing keys;

    private CoreState(string directory, X509Certificate2 root, ECDsa rootKey, CoreKeyRing keys)
    {
        Directory = directory;
        Root = root;
        RootKey = rootKey;
        this.keys = keys;
    }

    public string Directory { get; }

    public X509Certificate2 Root { get; }

    public ECDsa RootKey { get; }

    /// <summary>The core data keys as last loaded (RefreshKeys reloads them after a rotation).</summary>
    public CoreKeyRing Keys => Volatile.Read(ref keys);

    /// <summary>The current core data key: the one that signs.</summary>
    public Jwk DataKey => Keys.Current;

    public string CaFingerprint => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Root.RawData));

    public JwkSet TrustedJwks => Keys.Trusted;

    public string PathOf(string file) => Path.Combine(Directory, file);

    public static void Init(string directory, CoreConfig config, string name, JwsAlgorithm alg, string? curve, DateTimeOffset now)
    {
        if (!NodeName.IsValid(name))
        {
            throw new TapirException($"'{name}' is not a lower-case DNS name.") { ExitCode = ExitCodes.Usage };
        }
        string target = Path.GetFullPath(directory);
        if (File.Exists(Path.Combine(target, "ca.crt")) || File.Exists(Path.Combine(target, CoreDatabase.FileName))
            || System.IO.Directory.Exists(target) && System.IO.Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new TapirException($"{directory} already holds a core state or other files; refusing to overwrite it.");
        }
        // Everything is made in a sibling directory and renamed into place at the end, so an
        // interrupted init leaves no half-made state behind.
        string parent = Path.GetDirectoryName(target) ?? throw new TapirException($"{directory} has no parent directory.");
        System.IO.Directory.CreateDirectory(parent);
        string building = Path.Combine(parent, $".{Path.GetFileName(target)}.init-{Guid.NewGuid():N}");
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        System.IO.Directory.CreateDirectory(building, mode);
        try
        {
            Populate(building, config, name, alg, curve, now);
            if (System.IO.Directory.Exists(target))
            {
                System.IO.Directory.Delete(target); // empty, checked above
            }
            System.IO.Directory.Move(building, target);
            File.SetUnixFileMode(target, mode);
            Posix.FsyncDirectory(parent);
        }
        catch
        {
            if (System.IO.Directory.Exists(building))
            {
                System.IO.Directory.Delete(building, recursive: true);
            }
            throw;
        }
    }

    private static void Populate(string directory, CoreConfig config, string name, JwsAlgorithm alg, string? curve, DateTimeOffset now)
    {
        var addresses = config.ServerAddresses.Select(a => IPAddress.TryParse(a, out var ip) ? ip : throw new TapirException($"core.server_addresses: '{a}' is not an IP address.")).ToList();
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var root = CaProfile.CreateRoot(rootKey, $"tapir root CA {name}", now);
        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var server = CaProfile.IssueLeaf(root, rootKey, new PublicKey(serverKey), name, LeafRole.Core, now, CaProfile.MaximumLeafLifetime, addresses);
        var dataKey = JwkGenerator.Generate(alg, curve);
        Pem.WriteKey(Path.Combine(directory, "ca.key"), rootKey);
        Pem.WriteCertificate(Path.Combine(directory, "ca.crt"), root);
        Pem.WriteKey(Path.Combine(directory, "server.key"), serverKey);
        Pem.WriteCertificate(Path.Combine(directory, "server.crt"), server);
        PrivateKeyFile.Write(Path.Combine(directory, CoreKeyRing.InitialFile), System.Text.Encoding.UTF8.GetBytes(dataKey.ToJson(includePrivate: true) + "\n"));
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "aggregates"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        CoreDatabase.Open(Path.Combine(directory, CoreDatabase.FileName)).Dispose();
    }

    public static CoreState Load(string directory)
    {
        if (!File.Exists(Path.Combine(directory, "ca.crt")))
        {
            throw new TapirException($"{directory} holds no core state; run 'tapir core init' first.");
        }
        var mode = File.GetUnixFileMode(directory);
        if ((mode & PrivateKeyFile.GroupOrOther) != 0)
        {
            // It holds the CA key, the database with pending enrollment secrets, and aggregates.
            throw new TapirException($"state directory {directory} is accessible by group or others (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); run 'chmod 700 {directory}'.");
        }
        var root = Pem.ReadCertificate(Path.Combine(directory, "ca.crt"));
        var rootKey = Pem.ReadKey(Path.Combine(directory, "ca.key"));
        using var db = CoreDatabase.Open(Path.Combine(directory, CoreDatabase.FileName));
        return new CoreState(directory, root, rootKey, CoreKeyRing.Load(directory, db));
    }

    /// <summary>Reloads the data keys when the key record changed (a `core key rotate` or `retire` meanwhile).</summary>
    public void RefreshKeys(SqliteConnection db)
    {
        var records = CoreKeyStore.List(db);
        if (!Keys.Matches(records))
        {
            Volatile.Write(ref keys, CoreKeyRing.FromRecords(Directory, records));
        }
    }

    /// <summary>The TLS server certificate with its key; finishes a renewal a crash interrupted first.</summary>
    public X509Certificate2 ServerCertificate()
    {
        FinishInterruptedServerRenewal();
        return Pem.ReadCertificateWithKey(PathOf("server.crt"), PathOf("server.key"));
    }

    /// <summary>
    /// Issues a fresh P-256 key and server certificate (397 days, at most to the root's end) with the
    /// names of the current one: its DNS name and its IP addresses. The new key and certificate are
    /// written whole as server.key.next and server.crt.next and then renamed over the old pair.
    /// </summary>
    public X509Certificate2 RenewServerCertificate(DateTimeOffset now)
    {
        FinishInterruptedServerRenewal();
        using var current = Pem.ReadCertificate(PathOf("server.crt"));
        string name = ChainValidator.NodeNameOf(current)
            ?? throw new TapirException($"{PathOf("server.crt")} does not name the core (a CN equal to its one DNS name).");
        var addresses = current.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateIPAddresses().ToList();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var server = CaProfile.IssueLeaf(Root, RootKey, new PublicKey(key), name, LeafRole.Core, now, CaProfile.MaximumLeafLifetime, addresses);
        Pem.WriteKey(PathOf("server.key.next"), key);
        Pem.WriteCertificate(PathOf("server.crt.next"), server);
        FinishInterruptedServerRenewal();
        return server;
    }

    /// <summary>
    /// Rolls a renewal forward: both .next files present, or the key already renamed and the
    /// certificate matching it, mean the new pair is whole; anything else leaves the old pair.
    /// </summary>
    private void FinishInterruptedServerRenewal() => KeyPairSwap.Finish(PathOf("server.key"), PathOf("server.crt"));

    public SqliteConnection OpenDatabase() => CoreDatabase.Open(PathOf(CoreDatabase.FileName));

    public void Dispose()
    {
        Root.Dispose();
        RootKey.Dispose();
    }
}
