// Client certificates the broker must refuse, written as PEM files for the peers: one from a
// foreign CA with a node's exact name, and one from the tapir root itself that has expired.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tapir.Tests.Mqtt;

internal static class Certificates
{
    public static (string Cert, string Key) Foreign(string dir, string name)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=foreign root", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return Leaf(dir, name, ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>Issued by the core's own CA key (from its state directory), expired a minute ago.</summary>
    public static (string Cert, string Key) Expired(string dir, string stateDir, string name)
    {
        using var ca = X509Certificate2.CreateFromPemFile(Path.Combine(stateDir, "ca.crt"), Path.Combine(stateDir, "ca.key"));
        // The root of a fresh core is backdated 5 minutes: the leaf lives within that and has ended a minute ago.
        var notBefore = new DateTimeOffset(ca.NotBefore.ToUniversalTime());
        return Leaf(dir, name, ca, notBefore, DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    private static (string Cert, string Key) Leaf(string dir, string name, X509Certificate2 issuer, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        Directory.CreateDirectory(dir);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var leaf = request.Create(issuer, notBefore, notAfter, RandomNumberGenerator.GetBytes(16).Select((b, i) => i == 0 ? (byte)(b & 0x7f | 1) : b).ToArray());
        string cert = Path.Combine(dir, "tls.crt"), keyFile = Path.Combine(dir, "tls.key");
        File.WriteAllText(cert, leaf.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (cert, keyFile);
    }
}
