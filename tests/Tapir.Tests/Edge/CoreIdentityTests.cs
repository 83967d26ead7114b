// The edge accepts the core only with a serverAuth certificate from the tapir root for the host it
// dials (DESIGN §2, §3), and fetches nothing a server certificate points at. The real binary is
// enrolled with a real core, then `tapir edge renew` is aimed at a fake core on 127.0.0.1.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Tapir.Tests.Core;

namespace Tapir.Tests.Edge;

public sealed class CoreIdentityTests
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    /// <summary>What the CA issues to a node (clientAuth only), here for a node named like the core.</summary>
    private static CertificateRequest NodeProfile(CertificateRequest request, string name, params string[] usages)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var oids = new OidCollection();
        foreach (var usage in usages)
        {
            oids.Add(new Oid(usage));
        }
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        return request;
    }

    private static void EnrollThenAim(CoreProcess core, string edge, int fakePort)
    {
        core.Start();
        string credentials = core.AddNode("edge9.example.net");
        var enrolled = core.Tapir("edge", "enroll", "--credentials", credentials, "--state", edge);
        Assert.True(enrolled.ExitCode == 0, enrolled.Stderr + core.LogText);
        core.Stop();
        string bootstrap = Path.Combine(edge, "bootstrap.json");
        var json = JsonNode.Parse(File.ReadAllText(bootstrap))!;
        json["nodeman_url"] = $"https://localhost:{fakePort}/";
        File.WriteAllText(bootstrap, json.ToJsonString());
    }

    [Fact]
    public void RenewRefusesANodeCertificateNamedLikeTheCore()
    {
        using var core = new CoreProcess();
        // A clientAuth-only certificate for "localhost" (core.name by default): what a node enrolled
        // under the core's name holds. It chains to the tapir root and names the host dialled.
        using var impostor = FakeCore.IssueWithCoreCa(core.StateDir, r => NodeProfile(r, "localhost", ClientAuth), "localhost");
        using var fake = new FakeCore(impostor);
        string edge = core.File("edge");
        EnrollThenAim(core, edge, fake.Port);

        var renew = core.Tapir("edge", "renew", "--state", edge, "--attempts", "1");

        Assert.Equal(1, renew.ExitCode);
        Assert.Equal($"tapir: error: refusing https://localhost:{fake.Port}/ as the core: its TLS certificate is not a tapir core certificate for localhost (CertificateWrongPurpose).\n", renew.Stderr);
        Assert.Equal(0, fake.RequestBytes); // the signed renewal never left the edge
        Assert.True(fake.Connections >= 1);
    }

    [Fact]
    public void EnrollRefusesANodeCertificateNamedLikeTheCore()
    {
        // The relay attack: the fake core hands out the real root (so ca_fingerprint matches) and
        // would forward the enrollment to the real core, rewriting the answer.
        using var core = new CoreProcess();
        using var impostor = FakeCore.IssueWithCoreCa(core.StateDir, r => NodeProfile(r, "localhost", ClientAuth), "localhost");
        using var fake = new FakeCore(impostor, File.ReadAllText(Path.Combine(core.StateDir, "ca.crt")));
        string credentials = core.AddNode("edge8.example.net");
        var json = JsonNode.Parse(File.ReadAllText(credentials))!;
        json["nodeman_url"] = $"https://localhost:{fake.Port}/";
        File.WriteAllText(credentials, json.ToJsonString());

        var enroll = core.Tapir("edge", "enroll", "--credentials", credentials, "--state", core.File("edge"));

        Assert.Equal(1, enroll.ExitCode);
        Assert.Equal($"tapir: error: refusing https://localhost:{fake.Port}/ as the core: its TLS certificate is not a tapir core certificate for localhost (CertificateWrongPurpose).\n", enroll.Stderr);
        Assert.Equal(0, fake.RequestBytes); // only the public root was fetched; the enrollment JWS never left
        Assert.False(File.Exists(Path.Combine(core.File("edge"), "bootstrap.json")));
    }

    [Fact]
    public void RenewFetchesNothingAServerCertificatePointsAt()
    {
        using var core = new CoreProcess();
        using var aia = new ConnectionCounter();
        using var pointing = FakeCore.IssueWithCoreCa(core.StateDir, r =>
        {
            NodeProfile(r, "localhost", ServerAuth, ClientAuth);
            r.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension(null, [aia.Url.OriginalString]));
            return r;
        }, "localhost");
        using var fake = new FakeCore(pointing);
        string edge = core.File("edge");
        EnrollThenAim(core, edge, fake.Port);

        var renew = core.Tapir("edge", "renew", "--state", edge, "--attempts", "1");

        // The certificate is a valid core certificate (only the CA could make it), so the edge talks
        // to it; what it must not do is fetch the caIssuers URL in it.
        Assert.Equal("tapir: error: renewal refused: 503 fake core\n", renew.Stderr);
        Assert.True(fake.RequestBytes > 0);
        Assert.Equal(0, aia.Connections);
    }
}
