// The one place tapir decides whether a peer's X.509 certificate is a tapir identity (DESIGN §2,
// §3): exactly one name (subject exactly CN=<name>, the only dNSName equal to it), the extended
// key usage of the purpose (clientAuth for nodes, serverAuth for the core), validity at the time
// passed in, and a chain to the tapir root alone: custom root trust, no download of any URL a
// certificate names (AIA), no revocation fetch (revocation is the caller's serial set). A server
// must also name the host dialled. Node certificates carry no IP address; the core's may.
using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tapir.Security.Pki;

public enum CertificatePurpose
{
    /// <summary>A node (edge or core role) authenticating to the core: clientAuth, one DNS name, no IP.</summary>
    Client,
    /// <summary>The core's TLS server: serverAuth, one DNS name, IP addresses allowed, names the host dialled.</summary>
    Server,
}

public static class ChainValidator
{
    private const string CommonName = "2.5.4.3";

    /// <summary>
    /// Validates <paramref name="certificate"/> for <paramref name="purpose"/> at <paramref name="now"/>
    /// against <paramref name="root"/>. <paramref name="expected"/> is the host dialled (a DNS name or
    /// an IP address; required for Server) or the node expected (optional for Client).
    /// </summary>
    public static bool TryValidate(X509Certificate2 certificate, CertificatePurpose purpose, DateTimeOffset now, X509Certificate2 root,
        string? expected, [NotNullWhen(true)] out string? name, out Rejection why)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(root);
        if (purpose == CertificatePurpose.Server && string.IsNullOrEmpty(expected))
        {
            throw new ArgumentException("a server certificate is checked against the host dialled", nameof(expected));
        }
        name = null;
        if (!TryNames(certificate, out string? node, out var addresses, out why))
        {
            return false;
        }
        why = purpose == CertificatePurpose.Client && addresses.Count > 0 ? Rejection.CertificateExtraName
            : !Allows(certificate, purpose == CertificatePurpose.Client ? CaProfile.ClientAuth : CaProfile.ServerAuth) ? Rejection.CertificateWrongPurpose
            : now < certificate.NotBefore.ToUniversalTime() ? Rejection.CertificateNotYetValid
            : now >= certificate.NotAfter.ToUniversalTime() ? Rejection.CertificateExpired // as OpenSSL's chain check judges it
            : !ChainsTo(certificate, root, now) ? Rejection.CertificateUntrusted
            : expected is not null && !Names(node, addresses, expected) ? Rejection.CertificateWrongName
            : Rejection.None;
        name = why == Rejection.None ? node : null;
        return why == Rejection.None;
    }

    /// <summary>The node name of a tapir leaf (CN = its only dNSName), without judging anything else.</summary>
    public static string? NodeNameOf(X509Certificate2 certificate) =>
        TryNames(certificate, out string? name, out _, out _) ? name : null;

    private static bool TryNames(X509Certificate2 certificate, [NotNullWhen(true)] out string? name, out List<IPAddress> addresses, out Rejection why)
    {
        name = null;
        addresses = [];
        var sans = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().ToList();
        if (sans.Count > 1 || certificate.Extensions.Cast<X509Extension>().Count(e => e.Oid?.Value == "2.5.29.17") != sans.Count)
        {
            why = Rejection.Malformed;
            return false;
        }
        List<string> dns;
        string? cn;
        int entries;
        try
        {
            cn = SingleCommonName(certificate.SubjectName);
            dns = sans.Count == 0 ? [] : [.. sans[0].EnumerateDnsNames()];
            addresses = sans.Count == 0 ? [] : [.. sans[0].EnumerateIPAddresses()];
            entries = sans.Count == 0 ? 0 : SanEntryCount(sans[0]);
        }
        catch (Exception e) when (e is CryptographicException or AsnContentException)
        {
            why = Rejection.Malformed;
            return false;
        }
        why = dns.Count > 1 ? Rejection.CertificateTooManyNames
            : cn is null || !NodeName.IsValid(cn) || dns.Count == 0 || dns[0] != cn ? Rejection.CertificateNameMismatch
            : entries != dns.Count + addresses.Count ? Rejection.CertificateExtraName
            : Rejection.None;
        name = why == Rejection.None ? cn : null;
        return why == Rejection.None;
    }

    /// <summary>The value of a subject that is exactly one single-valued CN, else null.</summary>
    private static string? SingleCommonName(X500DistinguishedName subject)
    {
        var rdns = subject.EnumerateRelativeDistinguishedNames().ToList();
        return rdns.Count == 1 && !rdns[0].HasMultipleElements && rdns[0].GetSingleElementType().Value == CommonName
            ? rdns[0].GetSingleElementValue() : null;
    }

    /// <summary>How many GeneralNames the SAN holds, of any kind (email, URI and others included).</summary>
    private static int SanEntryCount(X509SubjectAlternativeNameExtension san)
    {
        var reader = new AsnReader(san.RawData, AsnEncodingRules.DER).ReadSequence();
        int count = 0;
        while (reader.HasData)
        {
            reader.ReadEncodedValue();
            count++;
        }
        return count;
    }

    private static bool Allows(X509Certificate2 certificate, string usage)
    {
        var ekus = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().ToList();
        return ekus.Count == 1 && ekus[0].EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == usage);
    }

    /// <summary>Leaf → tapir root and nothing else; the BCL checks the signature, the root's CA flags and critical extensions.</summary>
    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 root, DateTimeOffset now)
    {
        var policy = Policy(root);
        policy.VerificationTime = now.UtcDateTime;
        policy.VerificationTimeIgnored = false;
        using var chain = new X509Chain { ChainPolicy = policy };
        try
        {
            return chain.Build(certificate) && chain.ChainElements.Count == 2
                && chain.ChainElements[1].Certificate.RawDataMemory.Span.SequenceEqual(root.RawDataMemory.Span);
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                if (!ReferenceEquals(element.Certificate, certificate) && !ReferenceEquals(element.Certificate, root))
                {
                    element.Certificate.Dispose();
                }
            }
        }
    }

    /// <summary>
    /// The one chain policy: trust the tapir root alone (nothing, when none is pinned yet), never
    /// download a certificate a URL in another one names, never fetch revocation. TLS's own chain
    /// build uses it too (SslClientAuthenticationOptions.CertificateChainPolicy).
    /// </summary>
    public static X509ChainPolicy Policy(X509Certificate2? root)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            DisableCertificateDownloads = true,
            RevocationMode = X509RevocationMode.NoCheck,
        };
        if (root is not null)
        {
            policy.CustomTrustStore.Add(root);
        }
        return policy;
    }

    private static bool Names(string node, List<IPAddress> addresses, string expected) =>
        IPAddress.TryParse(expected.Trim('[', ']'), out var address)
            ? addresses.Contains(address)
            : string.Equals(node, expected, StringComparison.OrdinalIgnoreCase);
}
