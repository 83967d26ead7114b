// Issuing a node certificate from an authorized CSR and writing the x509_* response members
// (nodeman names). The lifetime is the configured default, or shorter when the request asks.
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tapir.Security.Pki;
using Tapir.Storage;

namespace Tapir.Core.Enrollment;

public static class Issuance
{
    /// <summary>The lifetime to issue: the configured one, or the request's when shorter (EnrollmentPayload
    /// refuses a request below CaProfile's minimum, and the configuration cannot go below it).</summary>
    public static TimeSpan Lifetime(CoreContext core, TimeSpan? requested) =>
        requested is TimeSpan r && r < core.Config.CertificateLifetime ? r : core.Config.CertificateLifetime;

    public static (X509Certificate2 Certificate, CertificateRecord Record, string Pem) Issue(CoreContext core, CsrAuthorization csr, string name, TimeSpan lifetime, DateTimeOffset now)
    {
        var certificate = CaProfile.IssueLeaf(core.State.Root, core.State.RootKey, csr.SubjectKey, name, LeafRole.Edge, now, lifetime);
        var record = new CertificateRecord(certificate.SerialNumber, name, new DateTimeOffset(certificate.NotBefore).ToUnixTimeSeconds(), new DateTimeOffset(certificate.NotAfter).ToUnixTimeSeconds(), null);
        return (certificate, record, certificate.ExportCertificatePem());
    }

    public static void WriteCertificate(Utf8JsonWriter w, CoreContext core, X509Certificate2 certificate, string pem)
    {
        w.WriteString("x509_certificate", pem + "\n");
        w.WriteString("x509_ca_certificate", core.State.Root.ExportCertificatePem() + "\n");
        w.WriteString("x509_certificate_serial_number", CaProfile.DecimalSerial(certificate));
        w.WriteString("x509_certificate_not_valid_after", new DateTimeOffset(certificate.NotAfter).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
    }
}
