// The certificate profile of DESIGN §3, in one place: the P-256 root (10 years, CA:TRUE pathlen 0,
// keyCertSign + cRLSign) and leaves (CN and SAN exactly the name, digitalSignature, clientAuth for
// edges and serverAuth + clientAuth for the core, CA:FALSE, SKI, AKI, a positive random serial of
// at least 128 bits, notBefore five minutes back, 1 hour to 397 days). The CA sets every extension
// itself; nothing is copied from a CSR. Time and keys come in as values.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tapir.Security.Pki;

public enum LeafRole
{
    Edge,
    Core,
}

public static class CaProfile
{
    public static readonly TimeSpan RootLifetime = TimeSpan.FromDays(3652);
    public static readonly TimeSpan MinimumLeafLifetime = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaximumLeafLifetime = TimeSpan.FromDays(397);
    public static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);
    public const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    public const string ServerAuth = "1.3.6.1.5.5.7.3.1";

    public static X509Certificate2 CreateRoot(ECDsa key, string commonName, DateTimeOffset now)
    {
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.Create(request.SubjectName, X509SignatureGenerator.CreateForECDsa(key), now - Backdate, now + RootLifetime, Serial());
    }

    /// <summary>Issues a leaf for a name whose key was already authorized (CsrRules) or generated here.</summary>
    public static X509Certificate2 IssueLeaf(X509Certificate2 root, ECDsa rootKey, PublicKey subjectKey, string name, LeafRole role,
        DateTimeOffset now, TimeSpan lifetime, IEnumerable<IPAddress>? addresses = null)
    {
        if (!NodeName.IsValid(name))
        {
            throw new ArgumentException($"'{name}' is not a node name", nameof(name));
        }
        if (lifetime < MinimumLeafLifetime || lifetime > MaximumLeafLifetime)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), "a leaf lives 1 hour to 397 days");
        }
        var request = new CertificateRequest(new X500DistinguishedName($"CN={name}"), subjectKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var usages = role == LeafRole.Core ? new OidCollection { new Oid(ServerAuth), new Oid(ClientAuth) } : new OidCollection { new Oid(ClientAuth) };
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        foreach (var address in addresses ?? [])
        {
            san.AddIpAddress(address);
        }
        request.CertificateExtensions.Add(san.Build());
        DateTimeOffset notAfter = now + lifetime > root.NotAfter ? root.NotAfter : now + lifetime;
        return request.Create(root.SubjectName, X509SignatureGenerator.CreateForECDsa(rootKey), now - Backdate, notAfter, Serial());
    }

    /// <summary>A DER-positive serial of 159 random bits (RFC 5280 §4.1.2.2: at most 20 octets).</summary>
    public static byte[] Serial()
    {
        byte[] serial = RandomNumberGenerator.GetBytes(20);
        serial[0] = (byte)((serial[0] & 0x7f) | 0x40);
        return serial;
    }

    /// <summary>The decimal serial number nodeman reports (x509_certificate_serial_number).</summary>
    public static string DecimalSerial(X509Certificate2 certificate) =>
        new System.Numerics.BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: true, isBigEndian: true).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A CRL (RFC 5280 §5) listing the revoked serials, signed by the root.</summary>
    public static byte[] BuildCrl(X509Certificate2 root, ECDsa rootKey, IEnumerable<(byte[] Serial, DateTimeOffset RevokedAt)> revoked, long crlNumber, DateTimeOffset now, TimeSpan? lifetime = null)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var (serial, at) in revoked)
        {
            builder.AddEntry(serial, at, X509RevocationReason.CessationOfOperation);
        }
        // A key-less copy of the root joined with its key: works whether or not `root` holds one.
        using var bare = X509CertificateLoader.LoadCertificate(root.RawData);
        using var signer = bare.CopyWithPrivateKey(rootKey);
        return builder.Build(signer, crlNumber, now + (lifetime ?? TimeSpan.FromDays(7)), HashAlgorithmName.SHA256, thisUpdate: now);
    }
}
