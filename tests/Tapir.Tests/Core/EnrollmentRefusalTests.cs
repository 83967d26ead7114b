// Every bad input of issue #5 against a real core, each with its exact status and reason:
// secrets (expired, reused, another node's, wrong), signatures (missing, foreign key), kid,
// timestamp, CSR rules, malformed and oversized bodies, removed nodes, replayed or foreign
// renewals, and a client certificate from a foreign CA.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapir.Security.Jose;

namespace Tapir.Tests.Core;

public sealed class RunningCore : IDisposable
{
    public RunningCore()
    {
        Core = new CoreProcess();
        Core.Start();
    }

    internal CoreProcess Core { get; }

    public void Dispose() => Core.Dispose();
}

public sealed class EnrollmentRefusalTests(RunningCore running) : IClassFixture<RunningCore>
{
    private readonly CoreProcess core = running.Core;

    private (Credentials Credentials, Jwk DataKey) Node(string name, string expires = "1h") =>
        (EnrollmentClient.Read(core.AddNode(name, expires)), JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: name));

    private (int Status, string Body) Enroll(string name, string body)
    {
        using var client = EnrollmentClient.Client(core);
        return EnrollmentClient.Post(client, $"api/v1/node/{name}/enroll", body);
    }

    private static void Refused((int Status, string Body) result, int status, string reason)
    {
        Assert.Equal(status, result.Status);
        Assert.Contains(reason, result.Body);
    }

    [Fact]
    public void ExpiredSecret()
    {
        // --expires is at least 1m (core.enrollment_secret_lifetime's bounds): age the secret in the database.
        var (creds, key) = Node("expired.example.net", "1m");
        using (var db = Tapir.Storage.CoreDatabase.Open(Path.Combine(core.StateDir, Tapir.Storage.CoreDatabase.FileName)))
        using (var age = db.CreateCommand())
        {
            age.CommandText = "UPDATE nodes SET enrollment_expires = enrollment_expires - 120 WHERE name = 'expired.example.net'";
            Assert.Equal(1, age.ExecuteNonQuery());
        }
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key)), 401, "enrollment secret expired");
    }

    [Fact]
    public void ReusedSecret()
    {
        var (creds, key) = Node("reused.example.net");
        Assert.Equal(200, Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key)).Status);
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key)), 400, "node is enrolled, not awaiting enrollment");
    }

    [Fact]
    public void SecretOfAnotherNode()
    {
        var (a, key) = Node("victim.example.net");
        var (b, _) = Node("other.example.net");
        var forged = new Credentials(a.Name, b.Secret);
        Refused(Enroll(a.Name, EnrollmentClient.Enrollment(forged, key)), 401, "enrollment secret signature refused (KeyNotFound)");
    }

    [Fact]
    public void WrongHmac()
    {
        var (creds, key) = Node("wronghmac.example.net");
        var wrong = JwkGenerator.Generate(JwsAlgorithm.HS256, kid: creds.Secret.Kid);
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds with { Secret = wrong }, key)), 401, "enrollment secret signature refused (BadSignature)");
    }

    [Fact]
    public void MissingDataKeySignature()
    {
        var (creds, key) = Node("nodatasig.example.net");
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key, signers: [creds.Secret])), 400, "general JWS with an HS256 and a data-key signature");
    }

    [Fact]
    public void DataKeySignatureByAnotherKey()
    {
        var (creds, key) = Node("otherkey.example.net");
        var other = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: creds.Name);
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key, signers: [creds.Secret, other])), 401, "data-key signature refused (BadSignature)");
    }

    [Fact]
    public void PublicKeyKidIsNotTheName()
    {
        var (creds, _) = Node("kid.example.net");
        var key = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "someone.example.net");
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key)), 403, "must be the node name");
    }

    [Theory]
    // The wire timestamp has whole seconds and the request takes time to arrive, so ±301 s could land back
    // inside the window (CI saw it once); ±310 s is outside it however the second falls.
    [InlineData(-310)]
    [InlineData(310)]
    public void TimestampOutsideTheWindow(int seconds)
    {
        var (creds, key) = Node($"time{(seconds < 0 ? "old" : "new")}.example.net");
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key, timestamp: DateTimeOffset.UtcNow.AddSeconds(seconds))), 400, "more than 300 s");
    }

    public static TheoryData<string, string> BadCsrs() => new()
    {
        { "cn", "subject must be exactly CN=" },
        { "san", "subjectAltName must be exactly DNS:" },
        { "extension", "only subjectAltName is allowed" },
        { "ca", "only subjectAltName is allowed" },
        { "rsa1024", "CSR key must be ECDSA P-256" },
        { "p192", "CSR key must be ECDSA P-256" },
        { "p384", "CSR key must be ECDSA P-256" },
        { "signature", "signature does not verify" },
    };

    [Theory]
    [MemberData(nameof(BadCsrs))]
    public void CsrRules(string flaw, string reason)
    {
        var (creds, key) = Node($"csr-{flaw}.example.net");
        string name = creds.Name;
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string csr = flaw switch
        {
            "cn" => EnrollmentClient.Csr("CN=other.example.net", p256, EnrollmentClient.San(name)),
            "san" => EnrollmentClient.Csr($"CN={name}", p256, EnrollmentClient.San(name, "extra.example.net")),
            "extension" => EnrollmentClient.Csr($"CN={name}", p256, EnrollmentClient.San(name), new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true)),
            "ca" => EnrollmentClient.Csr($"CN={name}", p256, new X509BasicConstraintsExtension(true, false, 0, true)),
            "rsa1024" => EnrollmentClient.Csr($"CN={name}", RSA.Create(1024)),
            "p192" => EnrollmentClient.Csr($"CN={name}", ECDsa.Create(ECCurve.CreateFromValue("1.2.840.10045.3.1.1"))),
            "p384" => EnrollmentClient.Csr($"CN={name}", ECDsa.Create(ECCurve.NamedCurves.nistP384)),
            _ => CorruptSignature(EnrollmentClient.Csr($"CN={name}", p256)),
        };
        Refused(Enroll(name, EnrollmentClient.Enrollment(creds, key, csr: csr)), 400, reason);
    }

    private static string CorruptSignature(string pem)
    {
        byte[] der = Convert.FromBase64String(string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        der[^3] ^= 0x01; // inside the ECDSA signature's last integer
        return PemEncoding.WriteString("CERTIFICATE REQUEST", der);
    }

    [Fact]
    public void MalformedAndOversizedBodies()
    {
        var (creds, _) = Node("malformed.example.net");
        Refused(Enroll(creds.Name, "{not json"), 400, "general JWS");
        Refused(Enroll(creds.Name, new string('a', 70_000)), 413, "request body too large");
        Refused(Enroll("no-such-node.example.net", "{}"), 404, "unknown node");
    }

    [Fact]
    public void RemovedNodeCannotEnroll()
    {
        var (creds, key) = Node("gone.example.net");
        Assert.Equal(0, core.Tapir("core", "node", "remove", creds.Name).ExitCode);
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key)), 400, "node is removed");
    }

    [Fact]
    public void RenewalRules()
    {
        var (creds, key) = Node("renewer.example.net");
        Assert.Equal(200, Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key)).Status);
        using var tls = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string payload = EnrollmentClient.Payload(DateTimeOffset.UtcNow, EnrollmentClient.Csr($"CN={creds.Name}", tls, EnrollmentClient.San(creds.Name)), null);
        string renewal = JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(payload), key);
        using var client = EnrollmentClient.Client(core);
        Assert.Equal(200, EnrollmentClient.Post(client, $"api/v1/node/{creds.Name}/renew", renewal).Status);
        Refused(EnrollmentClient.Post(client, $"api/v1/node/{creds.Name}/renew", renewal), 400, "replayed");

        var impostor = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: creds.Name);
        string foreign = JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(payload), impostor);
        Refused(EnrollmentClient.Post(client, $"api/v1/node/{creds.Name}/renew", foreign), 401, "renewal signature refused (BadSignature)");

        Assert.Equal(0, core.Tapir("core", "node", "remove", creds.Name).ExitCode);
        string late = JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(EnrollmentClient.Payload(DateTimeOffset.UtcNow, EnrollmentClient.Csr($"CN={creds.Name}", tls, EnrollmentClient.San(creds.Name)), null)), key);
        Refused(EnrollmentClient.Post(client, $"api/v1/node/{creds.Name}/renew", late), 403, "node is removed");
    }

    [Fact]
    public async Task ForeignCaClientCertificateFailsTheHandshake()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=edge9.example.net", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var foreign = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pkcs12), null);
        using var client = EnrollmentClient.Client(core, foreign);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync("healthz"));
        using var plain = EnrollmentClient.Client(core);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await plain.GetAsync("healthz")).StatusCode);
    }
}
