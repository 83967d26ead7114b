// The fuzz targets: JwsParser, JwkParser, SfParser (item, list, dictionary, strict dictionary),
// HttpMessageText, EnrollmentPayload (enrollment and renewal forms), CsrRules and CsrSan. Each feeds the
// raw input to the parser and checks that a refusal carries a Rejection and no value, and an
// acceptance a value and Rejection.None (HttpMessageText, host code: a value only); an exception,
// or a broken out-value contract, escapes and afl++ records it as a crash.
using System.Text;
using Tapir.Cli;
using Tapir.Security;
using Tapir.Security.Encoding;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;
using Tapir.Security.Pki;

namespace Tapir.Fuzz;

public static class Targets
{
    /// <summary>The name CSR seeds are made for (fuzz/seeds/CsrRules), so mutants reach the later rules.</summary>
    public const string CsrName = "edge1.example.net";

    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
    {
        ["JwsParser"] = Jws,
        ["JwkParser"] = Jwk,
        ["SfParser"] = Sf,
        ["HttpMessageText"] = Http,
        ["EnrollmentPayload"] = Payload,
        ["CsrRules"] = Csr,
        ["CsrSan"] = CsrSan,
    };

    // A fixed key signs the CsrSan requests: mutating a signed CSR breaks its signature, so only
    // a target that signs after mutating reaches the rules behind the signature check.
    private static readonly System.Security.Cryptography.ECDsa SanKey =
        System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);

    private static void Jws(byte[] input)
    {
        bool ok = JwsParser.TryParse(input, JwsParser.DefaultMaxBytes, out var message, out var why);
        Check("JwsParser.TryParse", ok, message, why);
    }

    private static void Jwk(byte[] input)
    {
        bool ok = JwkParser.TryParse(input, out var key, out var why);
        Check("JwkParser.TryParse", ok, key, why);
    }

    private static void Sf(byte[] input)
    {
        // Latin-1 maps each byte to one char, so the parser also sees every non-ASCII char below 256.
        string text = Encoding.Latin1.GetString(input);
        Check("SfParser.TryParseItem", SfParser.TryParseItem(text, out var item), item);
        Check("SfParser.TryParseList", SfParser.TryParseList(text, out var list), list);
        Check("SfParser.TryParseDictionary", SfParser.TryParseDictionary(text, out var dictionary), dictionary);
        bool ok = SfParser.TryParseStrictDictionary(text, out var strict, out var why);
        Check("SfParser.TryParseStrictDictionary", ok, strict, why);
    }

    private static void Http(byte[] input)
    {
        Check("HttpMessageText.TryParse", HttpMessageText.TryParse(input, "https", out var message), message);
    }

    private static void Payload(byte[] input)
    {
        foreach (bool withPublicKey in new[] { true, false })
        {
            bool ok = EnrollmentPayload.TryParse(input, withPublicKey, out var payload, out var why);
            Check("EnrollmentPayload.TryParse", ok, payload, why);
        }
    }

    private static void Csr(byte[] input)
    {
        // A PEM input is taken as it is; anything else is taken as DER and wrapped in PEM, so that
        // mutations reach the DER decoder instead of mostly breaking the base64.
        string pem = input.AsSpan().StartsWith("-----"u8)
            ? Encoding.Latin1.GetString(input)
            : new string(System.Security.Cryptography.PemEncoding.Write("CERTIFICATE REQUEST", input));
        bool ok = CsrRules.TryAuthorize(pem, CsrName, allowP384: true, out var authorization, out var why);
        Check("CsrRules.TryAuthorize", ok, authorization, why);
    }

    private static void CsrSan(byte[] input)
    {
        // The input is the subjectAltName extension value; the harness signs a CSR around it.
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
            $"CN={CsrName}", SanKey, System.Security.Cryptography.HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509Extension("2.5.29.17", input, critical: false));
        string pem = request.CreateSigningRequestPem();
        bool ok = CsrRules.TryAuthorize(pem, CsrName, allowP384: true, out var authorization, out var why);
        Check("CsrRules.TryAuthorize", ok, authorization, why);
    }

    private static void Check(string api, bool ok, object? value)
    {
        if (ok == value is null)
        {
            throw new InvalidOperationException($"{api} returned {ok} but its out value is {(value is null ? "null" : "set")}");
        }
    }

    private static void Check(string api, bool ok, object? value, Rejection why)
    {
        Check(api, ok, value);
        if (ok != (why == Rejection.None))
        {
            throw new InvalidOperationException($"{api} returned {ok} with rejection {why}");
        }
    }
}
