// CA profile and CSR rules in-process (DESIGN §3): root and leaf extensions, roles, lifetime
// bounds, serials, node-name binding, and CSR authorization with the exact reason for each refusal.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapir.Security.Pki;

namespace Tapir.Security.Tests.Pki;

public sealed class PkiProfileTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void RootAndLeavesFollowTheProfile()
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var root = CaProfile.CreateRoot(rootKey, "test root", Now);
        var bc = root.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(bc.Critical && bc.CertificateAuthority && bc.HasPathLengthConstraint && bc.PathLengthConstraint == 0);
        Assert.Equal(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, root.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages);

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        foreach (var role in new[] { LeafRole.Edge, LeafRole.Core })
        {
            using var leaf = CaProfile.IssueLeaf(root, rootKey, new PublicKey(key), "edge1.example.net", role, Now, TimeSpan.FromDays(30));
            Assert.Equal("CN=edge1.example.net", leaf.Subject);
            Assert.Equal("edge1.example.net", ChainValidator.NodeNameOf(leaf));
            Assert.Equal(Now - TimeSpan.FromMinutes(5), new DateTimeOffset(leaf.NotBefore.ToUniversalTime()));
            Assert.Equal(Now + TimeSpan.FromDays(30), new DateTimeOffset(leaf.NotAfter.ToUniversalTime()));
            var usages = leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToList();
            Assert.Equal(role == LeafRole.Edge ? [CaProfile.ClientAuth] : [CaProfile.ServerAuth, CaProfile.ClientAuth], usages);
            Assert.False(leaf.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
            Assert.True(leaf.SerialNumberBytes.Length == 20 && (leaf.SerialNumberBytes.Span[0] & 0x80) == 0);
            Assert.Equal(6, leaf.Extensions.Count);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => CaProfile.IssueLeaf(root, rootKey, new PublicKey(key), "e.example.net", LeafRole.Edge, Now, TimeSpan.FromMinutes(59)));
        Assert.Throws<ArgumentOutOfRangeException>(() => CaProfile.IssueLeaf(root, rootKey, new PublicKey(key), "e.example.net", LeafRole.Edge, Now, TimeSpan.FromDays(398)));
        Assert.Throws<ArgumentException>(() => CaProfile.IssueLeaf(root, rootKey, new PublicKey(key), "E.example.net", LeafRole.Edge, Now, TimeSpan.FromDays(1)));
    }

    private static string Csr(string subject, AsymmetricAlgorithm key, params X509Extension[] extensions)
    {
        var request = key is ECDsa ec ? new CertificateRequest(subject, ec, HashAlgorithmName.SHA256) : new CertificateRequest(subject, (RSA)key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        foreach (var e in extensions)
        {
            request.CertificateExtensions.Add(e);
        }
        return request.CreateSigningRequestPem();
    }

    private static X509Extension San(params string[] names)
    {
        var b = new SubjectAlternativeNameBuilder();
        foreach (var n in names) { b.AddDnsName(n); }
        return b.Build();
    }

    [Fact]
    public void CsrRulesAuthorizeOnlyTheProfile()
    {
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var rsa = RSA.Create(2048);
        const string name = "edge1.example.net";
        Assert.True(CsrRules.TryAuthorize(Csr($"CN={name}", p256, San(name)), name, false, out var ok, out _));
        Assert.Equal("ECDSA P-256", ok.KeyDescription);
        Assert.True(CsrRules.TryAuthorize(Csr($"CN={name}", p256), name, false, out _, out _)); // SAN may be absent: the CA sets it
        Assert.True(CsrRules.TryAuthorize(Csr($"CN={name}", p384), name, allowP384: true, out _, out _));
        var refusals = new (string Pem, Rejection Reason)[]
        {
            (Csr($"CN={name}", p384), Rejection.AlgorithmNotAllowed),
            (Csr($"CN={name}", rsa), Rejection.AlgorithmNotAllowed),
            (Csr($"CN={name}, O=x", p256), Rejection.NameMismatch),
            (Csr("CN=edge2.example.net", p256), Rejection.NameMismatch),
            (Csr($"CN={name}", p256, San(name, "x.example.net")), Rejection.NameMismatch),
            (Csr($"CN={name}", p256, San("x.example.net")), Rejection.NameMismatch),
            (Csr($"CN={name}", p256, new X509BasicConstraintsExtension(true, false, 0, true)), Rejection.ExtensionNotAllowed),
            (CsrWithAttribute(name, p256), Rejection.ExtensionNotAllowed),
            (CorruptSignature(Csr($"CN={name}", p256)), Rejection.BadSignature),
            ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", Rejection.Malformed),
            ("garbage", Rejection.Malformed),
            (new string('A', 9000), Rejection.TooLarge),
        };
        foreach (var (pem, reason) in refusals)
        {
            Assert.False(CsrRules.TryAuthorize(pem, name, false, out var none, out var why));
            Assert.Null(none);
            Assert.Equal(reason, why);
        }
    }

    private static string CsrWithAttribute(string name, ECDsa key)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.OtherRequestAttributes.Add(new AsnEncodedData("1.2.840.113549.1.9.7", [0x0C, 0x01, 0x78])); // challengePassword "x"
        return request.CreateSigningRequestPem();
    }

    private static string CorruptSignature(string pem)
    {
        byte[] der = Convert.FromBase64String(string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        der[^3] ^= 0x01; // inside the ECDSA signature's last integer
        return PemEncoding.WriteString("CERTIFICATE REQUEST", der);
    }

    [Fact]
    public void MalformedSubjectAltNameIsRefusedNotThrown()
    {
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        const string name = "edge1.example.net";
        // A SEQUENCE whose dNSName [2] claims 5 bytes and has 1: the BCL throws CryptographicException
        // when it enumerates the names.
        var broken = new X509Extension("2.5.29.17", [0x30, 0x03, 0x82, 0x05, 0x41], false);
        Assert.False(CsrRules.TryAuthorize(Csr($"CN={name}", p256, broken), name, false, out var none, out var why));
        Assert.Null(none);
        Assert.Equal(Rejection.Malformed, why);
    }

    // `$` let a trailing newline through. The non-ASCII digits that `\d` matched are also refused by the
    // BCL's parse after it; the regex no longer relies on that.
    [Theory]
    [InlineData("2026-11-29T12:00:00Z\\n")]
    [InlineData("2026-11-29T12:00:00+00:00\\n")]
    [InlineData("\u0662\u0660\u0662\u0666-11-29T12:00:00Z")] // Arabic-Indic digits for the year
    [InlineData("2026-11-29T12:00:00.\u0661Z")]
    [InlineData("2026-11-29T\uFF11\uFF12:00:00Z")] // fullwidth digits for the hour
    public void TimestampIsAsciiRfc3339WithNothingAfterIt(string timestamp)
    {
        string json = $$"""{"timestamp":"{{timestamp}}","x509_csr":"-"}""";
        Assert.False(EnrollmentPayload.TryParse(System.Text.Encoding.UTF8.GetBytes(json), withPublicKey: false, out var payload, out var why));
        Assert.Null(payload);
        Assert.Equal(Rejection.Malformed, why);
    }

    [Theory]
    [InlineData("2026-11-29T11:55:00Z", true)]
    [InlineData("2026-11-29T12:05:00+00:00", true)]
    [InlineData("2026-11-29T13:04:59+01:00", true)]
    [InlineData("2026-11-29T11:54:59.999Z", false)]
    [InlineData("2026-11-29T12:05:00.001Z", false)]
    [InlineData("2026-11-29T07:06:01-04:59", false)]
    public void TimestampWindowIsThreeHundredSecondsEitherSide(string timestamp, bool fresh)
    {
        string json = $$"""{"timestamp":"{{timestamp}}","x509_csr":"-"}""";
        Assert.True(EnrollmentPayload.TryParse(System.Text.Encoding.UTF8.GetBytes(json), withPublicKey: false, out var payload, out var why), why.ToString());
        Assert.Equal(fresh, payload.IsFresh(Now, out why));
        Assert.Equal(fresh ? Rejection.None : payload.Timestamp < Now ? Rejection.TooOld : Rejection.NotYetValid, why);
    }
}

public sealed class EnrollmentPayloadTests
{
    private const string Csr = "-----BEGIN CERTIFICATE REQUEST-----";

    [Theory]
    [InlineData("[]", Rejection.Malformed)]
    [InlineData("""{"timestamp":"2026-11-29T12:00:00Z","x509_csr":"-","x509_csr":"-"}""", Rejection.DuplicateMember)]
    [InlineData("""{"timestamp":"2026-11-29T12:00:00Z","x509_csr":"-","extra":1}""", Rejection.ParameterNotAllowed)]
    [InlineData("""{"timestamp":"2026-11-29T12:00:00Z","x509_csr":"-","public_key":{}}""", Rejection.ParameterNotAllowed)]
    [InlineData("""{"x509_csr":"-"}""", Rejection.ParameterMissing)]
    [InlineData("""{"timestamp":"2026-11-29T12:00:00Z"}""", Rejection.ParameterMissing)]
    [InlineData("""{"timestamp":"2026-11-29 12:00:00Z","x509_csr":"-"}""", Rejection.Malformed)]
    [InlineData("""{"timestamp":"2026-11-29T12:00:00Z","x509_csr":1}""", Rejection.Malformed)]
    [InlineData("""{"timestamp":"2026-11-29T12:00:00Z","x509_csr":"-","x509_lifetime":"1"}""", Rejection.Malformed)]
    [InlineData("""{"timestamp":"2026-11-29T12:00:00Z","x509_csr":"-","x509_lifetime":3599}""", Rejection.OutOfRange)]
    [InlineData("""{"timestamp":"2026-11-29T12:00:00Z","x509_csr":"-","x509_lifetime":34560001}""", Rejection.OutOfRange)]
    public void RenewalPayloadRefusals(string json, Rejection expected)
    {
        Assert.False(EnrollmentPayload.TryParse(System.Text.Encoding.UTF8.GetBytes(json), withPublicKey: false, out var payload, out var why));
        Assert.Null(payload);
        Assert.Equal(expected, why);
    }

    [Fact]
    public void EnrollmentPayloadNeedsAPublicKeyAndRefusesAPrivateOne()
    {
        var key = Tapir.Security.Jose.JwkGenerator.Generate(Tapir.Security.Jose.JwsAlgorithm.EdDSA, kid: "edge1.example.net");
        string Payload(string? jwk) => "{\"timestamp\":\"2026-11-29T12:00:00Z\",\"x509_csr\":\"" + Csr + "\",\"x509_lifetime\":3600" + (jwk is null ? "" : ",\"public_key\":" + jwk) + "}";
        Assert.True(EnrollmentPayload.TryParse(System.Text.Encoding.UTF8.GetBytes(Payload(key.PublicKey().ToJson())), true, out var ok, out var why), why.ToString());
        Assert.Equal(TimeSpan.FromHours(1), ok.Lifetime);
        Assert.False(EnrollmentPayload.TryParse(System.Text.Encoding.UTF8.GetBytes(Payload(null)), true, out _, out why));
        Assert.Equal(Rejection.ParameterMissing, why);
        Assert.False(EnrollmentPayload.TryParse(System.Text.Encoding.UTF8.GetBytes(Payload(key.ToJson(includePrivate: true))), true, out _, out why));
        Assert.Equal(Rejection.ParameterNotAllowed, why);
    }
}
