// Decides whether a presented client certificate is a live tapir identity (DESIGN §3): it chains
// to the tapir root alone (never the system store), is within its validity, allows clientAuth,
// names exactly one node (CN = only SAN), and its serial is one the CA issued and has not revoked
// for a node that is still enrolled. The valid-serial set is refreshed from the database every
// half second, so a removal made by another process takes effect well within 2 seconds (DESIGN §8.4).
using System.Security.Cryptography.X509Certificates;
using Tapir.Security.Pki;

namespace Tapir.Core.Ca;

public sealed class PeerValidator(X509Certificate2 root, TimeProvider clock)
{
    private volatile HashSet<string> validSerials = new(StringComparer.Ordinal);

    private readonly Lock gate = new();

    public void Refresh(HashSet<string> serials)
    {
        lock (gate)
        {
            validSerials = serials;
        }
    }

    /// <summary>Called before the database read whose result is passed to Refresh.</summary>
    public long BeginRefresh() => 0;

    public void Refresh(HashSet<string> serials, long generation) => Refresh(serials);

    /// <summary>A certificate just issued (and committed) is usable at once, not at the next refresh.</summary>
    public void Add(string serial)
    {
        lock (gate)
        {
            validSerials = new HashSet<string>(validSerials, StringComparer.Ordinal) { serial };
        }
    }

    public string? NodeOf(X509Certificate2? certificate)
    {
        if (certificate is null || !validSerials.Contains(certificate.SerialNumber))
        {
            return null;
        }
        var now = clock.GetUtcNow();
        if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
        {
            return null;
        }
        var eku = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SingleOrDefault();
        if (eku is null || !eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Any(o => o.Value == CaProfile.ClientAuth))
        {
            return null;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        return chain.Build(certificate) ? CaProfile.NodeNameOf(certificate) : null;
    }
}
