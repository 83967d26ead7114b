// CSR rules (DESIGN §3): the signature must verify (proof of possession), the key is ECDSA P-256
// (P-384 when allowed), the subject is exactly CN=<name>, and the only extension request allowed
// is a SAN of exactly DNS:<name>. Any other attribute or extension is refused with a reason.
// Authorization returns the key to certify; issuance (CaProfile) sets every extension itself.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tapir.Security.Pki;

public sealed record CsrAuthorization(PublicKey SubjectKey, string KeyDescription);

public static class CsrRules
{
    public const int MaxPemLength = 8192;

    public static bool TryAuthorize(string pem, string name, bool allowP384, out CsrAuthorization? authorization, out string reason)
    {
        authorization = null;
        if (pem.Length > MaxPemLength)
        {
            reason = "CSR too large";
            return false;
        }
        CertificateRequest request;
        if (!PemEncoding.TryFind(pem, out var fields) || pem[fields.Label] != "CERTIFICATE REQUEST"
            || DerEcdsaSignature.FromCsr(Base64(pem[fields.Base64Data])) is not byte[] rawSignature)
        {
            reason = "not a PEM CSR";
            return false;
        }
        try
        {
            // Loading verifies the CSR's self-signature: proof that the requester holds the key.
            request = CertificateRequest.LoadSigningRequestPem(pem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (Exception e) when (e is CryptographicException or NotSupportedException or ArgumentException or FormatException)
        {
            // NotSupportedException: an algorithm or curve the platform does not know; the rest: bad encodings.
            reason = "CSR does not parse or its signature does not verify";
            return false;
        }
        if (request.SubjectName.Name != $"CN={name}" || request.SubjectName.EnumerateRelativeDistinguishedNames().Count() != 1)
        {
            reason = $"subject must be exactly CN={name}";
            return false;
        }
        if (request.OtherRequestAttributes.Count > 0)
        {
            reason = "CSR carries attributes other than an extension request";
            return false;
        }
        foreach (var extension in request.CertificateExtensions)
        {
            if (extension is not X509SubjectAlternativeNameExtension san && extension.Oid?.Value != "2.5.29.17")
            {
                reason = $"CSR requests extension {extension.Oid?.Value}; only subjectAltName is allowed";
                return false;
            }
            if (!TrySan(extension, out var parsed))
            {
                reason = "subjectAltName does not decode";
                return false;
            }
            if (!SanIsExactly(parsed!, name))
            {
                reason = $"subjectAltName must be exactly DNS:{name}";
                return false;
            }
        }
        string? curve = CurveOf(request.PublicKey) switch
        {
            "1.2.840.10045.3.1.7" => "P-256",
            "1.3.132.0.34" when allowP384 => "P-384",
            _ => null,
        };
        if (curve is not null && !DerEcdsaSignature.IsStrict(rawSignature))
        {
            reason = "CSR signature is not strict DER";
            return false;
        }
        if (curve is null)
        {
            reason = allowP384 ? "CSR key must be ECDSA P-256 or P-384" : "CSR key must be ECDSA P-256";
            return false;
        }
        authorization = new CsrAuthorization(request.PublicKey, $"ECDSA {curve}");
        reason = "";
        return true;
    }

    private static byte[] Base64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out int written) ? buffer[..written] : [];
    }

    private static string? CurveOf(PublicKey key)
    {
        try
        {
            using var ecdsa = key.GetECDsaPublicKey();
            return ecdsa?.ExportParameters(false).Curve.Oid.Value;
        }
        catch (Exception e) when (e is CryptographicException or NotSupportedException)
        {
            return null;
        }
    }

    private static bool TrySan(X509Extension extension, out X509SubjectAlternativeNameExtension? san)
    {
        // The BCL decodes the names only when they are enumerated, and throws on a bad encoding.
        try
        {
            san = new X509SubjectAlternativeNameExtension(extension.RawData, extension.Critical);
            _ = san.EnumerateDnsNames().Count() + san.EnumerateIPAddresses().Count();
            return true;
        }
        catch (CryptographicException)
        {
            san = null;
            return false;
        }
    }

    private static bool SanIsExactly(X509SubjectAlternativeNameExtension san, string name)
    {
        var dns = san.EnumerateDnsNames().ToList();
        var ips = san.EnumerateIPAddresses().ToList();
        // Any other GeneralName (email, URI, ...) is invisible to both enumerations, so compare the
        // encoding with the one a SAN of just DNS:name has.
        var expected = new SubjectAlternativeNameBuilder();
        expected.AddDnsName(name);
        return dns.Count == 1 && dns[0] == name && ips.Count == 0 && expected.Build().RawData.AsSpan().SequenceEqual(san.RawData);
    }
}
