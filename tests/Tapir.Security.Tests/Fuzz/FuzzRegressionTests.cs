// Regression tests for the inputs the afl++ fuzzer (fuzz/, `make fuzz`) found, each one minimized
// with afl-tmin and kept byte-exact under tests/vectors/fuzz/<target>/. Every parser must refuse
// them with its exact Rejection and no out value: never throw, never hand back a refused value.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapir.Security.Encoding;
using Tapir.Security.Pki;

namespace Tapir.Security.Tests.Fuzz;

public sealed class FuzzRegressionTests
{
    private static string Latin1(string name) => System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(Vectors.PathOf("fuzz/" + name)));

    [Fact]
    public void StrictDictionaryWithDuplicateKeyHandsBackNoDictionary()
    {
        // "*,*": a dictionary whose key "*" appears twice. The refusal used to come with the
        // parsed dictionary still in the out parameter.
        string text = Latin1("SfParser/strict-dictionary-duplicate-key");
        Assert.False(SfParser.TryParseStrictDictionary(text, out var dictionary, out var why));
        Assert.Equal(Rejection.DuplicateMember, why);
        Assert.Null(dictionary);
    }

    [Fact]
    public void CsrWithAnEmptySubjectAltNameIsRefusedNotThrown()
    {
        // The CsrSan target's find: a signed P-256 CSR whose subjectAltName value is empty (0 bytes)
        // made the BCL's SAN decoder throw out of TryAuthorize (the API answered 500).
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=edge1.example.net", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509Extension("2.5.29.17", [], critical: false));
        Assert.False(CsrRules.TryAuthorize(request.CreateSigningRequestPem(), "edge1.example.net", allowP384: false, out var authorization, out var why));
        Assert.Equal(Rejection.Malformed, why);
        Assert.Null(authorization);
    }
}
