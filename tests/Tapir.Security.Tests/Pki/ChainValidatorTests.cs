// The one chain validator (DESIGN §2, §3): every way a presented certificate can fail is refused
// with its own Rejection: wrong root, expired, not yet valid, the other purpose's EKU, CN≠SAN,
// two DNS names, an IP address on a node certificate, a server not naming the host dialled.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapir.Security.Pki;

namespace Tapir.Security.Tests.Pki;

public sealed class ChainValidatorTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private readonly ECDsa rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 root;

    public ChainValidatorTests()
    {
        root = CaProfile.CreateRoot(rootKey, "tapir root CA core.example.net", Now - TimeSpan.FromDays(1));
    }

    public void Dispose()
    {
        root.Dispose();
        rootKey.Dispose();
        leafKey.Dispose();
    }

    private X509Certificate2 Issue(string name, LeafRole role, params IPAddress[] addresses) =>
        CaProfile.IssueLeaf(root, rootKey, new PublicKey(leafKey), name, role, Now, TimeSpan.FromDays(30), addresses);

    /// <summary>A leaf the CA profile would never make, signed by the root.</summary>
    private X509Certificate2 Custom(string subject, Action<SubjectAlternativeNameBuilder>? san, params string[] usages)
    {
        var request = new CertificateRequest(subject, leafKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        if (usages.Length > 0)
        {
            var oids = new OidCollection();
            foreach (var usage in usages)
            {
                oids.Add(new Oid(usage));
            }
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, false));
        }
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        if (san is not null)
        {
            var builder = new SubjectAlternativeNameBuilder();
            san(builder);
            request.CertificateExtensions.Add(builder.Build());
        }
        return request.Create(root.SubjectName, X509SignatureGenerator.CreateForECDsa(rootKey), Now - TimeSpan.FromHours(1), Now + TimeSpan.FromDays(1), CaProfile.Serial());
    }

    private Rejection Check(X509Certificate2 certificate, CertificatePurpose purpose, string? expected = null, DateTimeOffset? at = null, X509Certificate2? trusted = null)
    {
        bool ok = ChainValidator.TryValidate(certificate, purpose, at ?? Now, trusted ?? root, expected, out string? name, out var why);
        Assert.Equal(ok, why == Rejection.None);
        Assert.Equal(ok, name is not null);
        return why;
    }

    [Fact]
    public void ANodeCertificateIsAClientNamedByItsNode()
    {
        using var leaf = Issue("edge1.example.net", LeafRole.Edge);
        Assert.True(ChainValidator.TryValidate(leaf, CertificatePurpose.Client, Now, root, null, out string? name, out var why));
        Assert.Equal("edge1.example.net", name);
        Assert.Equal(Rejection.None, why);
        Assert.Equal(Rejection.None, Check(leaf, CertificatePurpose.Client, "edge1.example.net"));
        Assert.Equal(Rejection.CertificateWrongName, Check(leaf, CertificatePurpose.Client, "edge2.example.net"));
    }

    [Fact]
    public void TheCoreCertificateIsAServerForItsNameAndAddresses()
    {
        using var core = Issue("core.example.net", LeafRole.Core, IPAddress.Loopback, IPAddress.IPv6Loopback);
        Assert.Equal(Rejection.None, Check(core, CertificatePurpose.Server, "core.example.net"));
        Assert.Equal(Rejection.None, Check(core, CertificatePurpose.Server, "127.0.0.1"));
        Assert.Equal(Rejection.None, Check(core, CertificatePurpose.Server, "[::1]"));
        Assert.Equal(Rejection.CertificateWrongName, Check(core, CertificatePurpose.Server, "other.example.net"));
        Assert.Equal(Rejection.CertificateWrongName, Check(core, CertificatePurpose.Server, "192.0.2.1"));
        Assert.Throws<ArgumentException>(() => ChainValidator.TryValidate(core, CertificatePurpose.Server, Now, root, null, out _, out _));
    }

    [Fact]
    public void AnotherRootIsRefused()
    {
        // Same subject name as the tapir root, another key: only the pinned root is trusted.
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = CaProfile.CreateRoot(otherKey, "tapir root CA core.example.net", Now - TimeSpan.FromDays(1));
        using var leaf = Issue("edge1.example.net", LeafRole.Edge);
        using var core = Issue("core.example.net", LeafRole.Core);
        Assert.Equal(Rejection.CertificateUntrusted, Check(leaf, CertificatePurpose.Client, trusted: other));
        Assert.Equal(Rejection.CertificateUntrusted, Check(core, CertificatePurpose.Server, "core.example.net", trusted: other));
    }

    [Fact]
    public void ValidityIsJudgedAtTheTimeGiven()
    {
        using var leaf = Issue("edge1.example.net", LeafRole.Edge);
        Assert.Equal(Rejection.CertificateExpired, Check(leaf, CertificatePurpose.Client, at: Now + TimeSpan.FromDays(30)));
        Assert.Equal(Rejection.CertificateNotYetValid, Check(leaf, CertificatePurpose.Client, at: Now - TimeSpan.FromMinutes(6)));
        Assert.Equal(Rejection.None, Check(leaf, CertificatePurpose.Client, at: Now + TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1)));
        Assert.Equal(Rejection.None, Check(leaf, CertificatePurpose.Client, at: Now - TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void EachPurposeNeedsItsOwnUsage()
    {
        using var node = Issue("core.example.net", LeafRole.Edge); // clientAuth only, named like the core
        Assert.Equal(Rejection.CertificateWrongPurpose, Check(node, CertificatePurpose.Server, "core.example.net"));
        using var serverOnly = Custom("CN=edge1.example.net", s => s.AddDnsName("edge1.example.net"), CaProfile.ServerAuth);
        Assert.Equal(Rejection.CertificateWrongPurpose, Check(serverOnly, CertificatePurpose.Client));
        using var none = Custom("CN=edge1.example.net", s => s.AddDnsName("edge1.example.net"));
        Assert.Equal(Rejection.CertificateWrongPurpose, Check(none, CertificatePurpose.Client));
        Assert.Equal(Rejection.CertificateWrongPurpose, Check(none, CertificatePurpose.Server, "edge1.example.net"));
    }

    [Fact]
    public void ExactlyOneNodeName()
    {
        using var mismatch = Custom("CN=edge1.example.net", s => s.AddDnsName("edge2.example.net"), CaProfile.ClientAuth);
        Assert.Equal(Rejection.CertificateNameMismatch, Check(mismatch, CertificatePurpose.Client));
        using var noSan = Custom("CN=edge1.example.net", null, CaProfile.ClientAuth);
        Assert.Equal(Rejection.CertificateNameMismatch, Check(noSan, CertificatePurpose.Client));
        using var moreRdns = Custom("O=tapir, CN=edge1.example.net", s => s.AddDnsName("edge1.example.net"), CaProfile.ClientAuth);
        Assert.Equal(Rejection.CertificateNameMismatch, Check(moreRdns, CertificatePurpose.Client));
        using var upper = Custom("CN=Edge1.example.net", s => s.AddDnsName("Edge1.example.net"), CaProfile.ClientAuth);
        Assert.Equal(Rejection.CertificateNameMismatch, Check(upper, CertificatePurpose.Client));
        using var two = Custom("CN=edge1.example.net", s => { s.AddDnsName("edge1.example.net"); s.AddDnsName("core.example.net"); }, CaProfile.ClientAuth, CaProfile.ServerAuth);
        Assert.Equal(Rejection.CertificateTooManyNames, Check(two, CertificatePurpose.Client));
        Assert.Equal(Rejection.CertificateTooManyNames, Check(two, CertificatePurpose.Server, "core.example.net"));
    }

    [Fact]
    public void ANodeCertificateNamesNothingButItsNode()
    {
        using var withIp = Custom("CN=edge1.example.net", s => { s.AddDnsName("edge1.example.net"); s.AddIpAddress(IPAddress.Loopback); }, CaProfile.ClientAuth);
        Assert.Equal(Rejection.CertificateExtraName, Check(withIp, CertificatePurpose.Client));
        using var core = Issue("core.example.net", LeafRole.Core, IPAddress.Loopback); // the core's own certificate as a client
        Assert.Equal(Rejection.CertificateExtraName, Check(core, CertificatePurpose.Client));
        using var withEmail = Custom("CN=core.example.net", s => { s.AddDnsName("core.example.net"); s.AddEmailAddress("ops@example.net"); }, CaProfile.ServerAuth);
        Assert.Equal(Rejection.CertificateExtraName, Check(withEmail, CertificatePurpose.Server, "core.example.net"));
    }

    [Fact]
    public void TheRootItselfIsNoPeer()
    {
        Assert.Equal(Rejection.CertificateNameMismatch, Check(root, CertificatePurpose.Client));
    }
}
