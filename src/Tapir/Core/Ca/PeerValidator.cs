// Decides whether a presented client certificate is a live tapir identity (DESIGN §3): the one
// chain validator says it is a node certificate from the tapir root, valid now, for clientAuth
// (Pki/ChainValidator.cs), and its serial is one the CA issued and has not revoked for a node that
// is still enrolled. The valid-serial set is refreshed from the database every half second, so a
// removal made by another process takes effect well within 2 seconds (DESIGN §8.4); a serial
// added while a refresh reads the database survives that refresh (generations below). A caller
// that keeps a validated identity per TLS connection (TryIdentityOf) re-checks it per request with
// IsStillLive: the live serial set and the validity period, not the whole chain again.
using System.Security.Cryptography.X509Certificates;
using Tapir.Security;
using Tapir.Security.Pki;

namespace Tapir.Core.Ca;

public sealed class PeerValidator(X509Certificate2 root, TimeProvider clock)
{
    private readonly Lock gate = new();

    private volatile HashSet<string> validSerials = new(StringComparer.Ordinal);

    // Serials added since some refresh began, with the generation current when they were added.
    // A snapshot whose read began after an Add (a higher generation) decides that serial; an older
    // snapshot cannot have seen it, so the serial is kept on top of it.
    private readonly Dictionary<string, long> added = new(StringComparer.Ordinal);
    private long generation;
    private long installed;

    /// <summary>Called before the database read whose result is passed to Refresh.</summary>
    public long BeginRefresh()
    {
        lock (gate)
        {
            return ++generation;
        }
    }

    /// <summary>Installs the serials read after BeginRefresh returned <paramref name="readGeneration"/>.</summary>
    public void Refresh(HashSet<string> serials, long readGeneration)
    {
        lock (gate)
        {
            if (readGeneration <= installed)
            {
                return; // a snapshot read later is already in place
            }
            installed = readGeneration;
            foreach (var (serial, at) in added.Where(a => a.Value < readGeneration).ToList())
            {
                added.Remove(serial);
            }
            var next = new HashSet<string>(serials, StringComparer.Ordinal);
            next.UnionWith(added.Keys);
            validSerials = next;
        }
    }

    /// <summary>Reads the valid serials (the database) and installs them, race-free against Add.</summary>
    public void Refresh(Func<HashSet<string>> read)
    {
        long readGeneration = BeginRefresh();
        Refresh(read(), readGeneration);
    }

    /// <summary>A certificate just issued (and committed) is usable at once, not at the next refresh.</summary>
    public void Add(string serial)
    {
        lock (gate)
        {
            added[serial] = generation;
            validSerials = new HashSet<string>(validSerials, StringComparer.Ordinal) { serial };
        }
    }

    /// <summary>Whether a certificate serial is still one a live node may use (the broker's sessions re-check theirs).</summary>
    public bool IsLive(string serial) => validSerials.Contains(serial);

    public string? NodeOf(X509Certificate2? certificate) => TryNodeOf(certificate, out string? node, out _) ? node : null;

    public bool TryNodeOf(X509Certificate2? certificate, [NotNullWhen(true)] out string? node, out Rejection why)
    {
        node = null;
        if (certificate is null)
        {
            why = Rejection.ComponentMissing;
            return false;
        }
        if (!ChainValidator.TryValidate(certificate, CertificatePurpose.Client, clock.GetUtcNow(), root, null, out string? name, out why))
        {
            return false;
        }
        if (!validSerials.Contains(certificate.SerialNumber))
        {
            why = Rejection.CertificateRevoked;
            return false;
        }
        node = name;
        return true;
    }

    /// <summary>TryNodeOf, keeping what IsStillLive needs to re-check the same certificate later.</summary>
    public bool TryIdentityOf(X509Certificate2? certificate, [NotNullWhen(true)] out LiveIdentity? identity, out Rejection why)
    {
        identity = null;
        if (!TryNodeOf(certificate, out string? node, out why))
        {
            return false;
        }
        // The chain is valid until the first of the two ends (the root's own period included).
        var notAfter = certificate!.NotAfter.ToUniversalTime() < root.NotAfter.ToUniversalTime() ? certificate.NotAfter.ToUniversalTime() : root.NotAfter.ToUniversalTime();
        identity = new LiveIdentity(certificate, node, certificate.SerialNumber, certificate.NotBefore.ToUniversalTime(), notAfter);
        return true;
    }

    /// <summary>An identity TryIdentityOf accepted (its chain unchanged): still within its validity, as the
    /// chain validator judges it, and its serial still live (not revoked, node not removed).</summary>
    public bool IsStillLive(LiveIdentity identity, out Rejection why)
    {
        var now = clock.GetUtcNow();
        why = now < identity.NotBefore ? Rejection.CertificateNotYetValid
            : now >= identity.NotAfter ? Rejection.CertificateExpired
            : !validSerials.Contains(identity.Serial) ? Rejection.CertificateRevoked
            : Rejection.None;
        return why == Rejection.None;
    }
}
