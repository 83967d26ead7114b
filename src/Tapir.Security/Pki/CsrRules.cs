// CSR rules (DESIGN §3): the subject is exactly CN=<name>, the only extension request allowed is a
// SAN of exactly DNS:<name>, the key is ECDSA P-256 (P-384 when allowed), and the signature verifies
// (proof of possession) and is strict DER. Refusals: TooLarge, Malformed (PEM, DER, a SAN that does
// not decode), NameMismatch, ExtensionNotAllowed (also any attribute), AlgorithmNotAllowed, BadSignature.
// Authorization returns the key to certify; issuance (CaProfile) sets every extension itself.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tapir.Security.Pki;

public sealed record CsrAuthorization(PublicKey SubjectKey, string KeyDescription);

public static class CsrRules
{
    public const int MaxPemLength = 8192;

    public static bool TryAuthorize(string pem, string name, bool allowP384, [NotNullWhen(true)] out CsrAuthorization? authorization, out Rejection why)
    {
        authorization = null;
        if (pem.Length > MaxPemLength)
        {
            why = Rejection.TooLarge;
            return false;
        }
        why = Rejection.Malformed;
        if (!PemEncoding.TryFind(pem, out var fields) || pem[fields.Label] != "CERTIFICATE REQUEST"
            || DerEcdsaSignature.FromCsr(Base64(pem[fields.Base64Data])) is not byte[] rawSignature
            || Load(pem, CertificateRequestLoadOptions.SkipSignatureValidation) is not CertificateRequest request)
        {
            return false;
        }
        why = CheckProfile(request, name, allowP384, out string? curve);
        if (why != Rejection.None)
        {
            return false;
        }
        // Loading with the signature checked proves that the requester holds the key.
        if (Load(pem, CertificateRequestLoadOptions.Default) is null)
        {
            why = Rejection.BadSignature;
            return false;
        }
        if (!DerEcdsaSignature.IsStrict(rawSignature))
        {
            why = Rejection.Malformed;
            return false;
        }
        authorization = new CsrAuthorization(request.PublicKey, $"ECDSA {curve}");
        return true;
    }

    private static Rejection CheckProfile(CertificateRequest request, string name, bool allowP384, out string? curve)
    {
        curve = null;
        if (request.SubjectName.Name != $"CN={name}" || request.SubjectName.EnumerateRelativeDistinguishedNames().Count() != 1)
        {
            return Rejection.NameMismatch;
        }
        if (request.OtherRequestAttributes.Count > 0)
        {
            return Rejection.ExtensionNotAllowed;
        }
        foreach (var extension in request.CertificateExtensions)
        {
            if (extension.Oid?.Value != "2.5.29.17")
            {
                return Rejection.ExtensionNotAllowed;
            }
            if (!TrySan(extension, out var san))
            {
                return Rejection.Malformed;
            }
            if (!SanIsExactly(san, name))
            {
                return Rejection.NameMismatch;
            }
        }
        curve = CurveOf(request.PublicKey) switch
        {
            "1.2.840.10045.3.1.7" => "P-256",
            "1.3.132.0.34" when allowP384 => "P-384",
            _ => null,
        };
        return curve is null ? Rejection.AlgorithmNotAllowed : Rejection.None;
    }

    private static CertificateRequest? Load(string pem, CertificateRequestLoadOptions options)
    {
        try
        {
            return CertificateRequest.LoadSigningRequestPem(pem, HashAlgorithmName.SHA256, options | CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (Exception e) when (e is CryptographicException or NotSupportedException or ArgumentException or FormatException)
        {
            // NotSupportedException: an algorithm or curve the platform does not know; the rest: bad encodings.
            return null;
        }
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

    private static bool TrySan(X509Extension extension, [NotNullWhen(true)] out X509SubjectAlternativeNameExtension? san)
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
        // Any GeneralName other than a DNS name or an IP address (email, URI, ...) is invisible to
        // the BCL's enumerations, so the encoding is compared, byte for byte, with the one a SAN of
        // just DNS:name has: that also rules out a second name, an IP address, or another spelling.
        var expected = new SubjectAlternativeNameBuilder();
        expected.AddDnsName(name);
        return expected.Build().RawData.AsSpan().SequenceEqual(san.RawData);
    }
}
