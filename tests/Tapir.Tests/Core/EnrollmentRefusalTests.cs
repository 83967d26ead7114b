// Every bad input of issues #5 and #9 against a real core, each with its exact wire answer and the
// detail in the log: before the caller proves it holds the node's secret or data key, one uniform
// 401 (unknown, wrong state, bad secret look alike); after, the WireAnswers table per Rejection.
// Secrets, signatures, kid, timestamp, CSR rules, bodies, removed nodes, replayed or foreign
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

    /// <summary>The exact wire answer (WireAnswers), and when given, the detail the log carries.</summary>
    private void Refused((int Status, string Body) result, int status, string reason, string? logged = null)
    {
        Assert.Equal(status, result.Status);
        Assert.Equal($"{{\"error\":\"{reason}\"}}", result.Body);
        if (logged is not null)
        {
            Logged(logged);
        }
    }

    /// <summary>Waits (the core's stderr is read asynchronously) until the log has the fragment.</summary>
    private void Logged(string fragment)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            lock (core.Log)
            {
                if (core.LogText.Contains(fragment, StringComparison.Ordinal))
                {
                    return;
                }
            }
            Assert.True(DateTime.UtcNow < deadline, $"not in the log: {fragment}");
            Thread.Sleep(50);
        }
    }

    private static void Uniform((int Status, string Body) result, string reason)
    {
        Assert.Equal(401, result.Status);
        Assert.Equal($"{{\"error\":\"{reason}\"}}", result.Body);
    }

    [Fact]
    public void StrangersCannotTellNamesOrStatesApart()
    {
        var (created, createdKey) = Node("alike-created.example.net");
        var (enrolled, enrolledKey) = Node("alike-enrolled.example.net");
        Assert.Equal(200, Enroll(enrolled.Name, EnrollmentClient.Enrollment(enrolled, enrolledKey)).Status);
        var (removed, removedKey) = Node("alike-removed.example.net");
        Assert.Equal(0, core.Tapir("core", "node", "remove", removed.Name).ExitCode);
        const string nobody = "alike-nobody.example.net";
        var wrongSecret = JwkGenerator.Generate(JwsAlgorithm.HS256, kid: created.Secret.Kid);
        var enrollments = new (string Name, string Body, string Logged)[]
        {
            (nobody, EnrollmentClient.Enrollment(created with { Name = nobody }, createdKey), "unknown node"),
            ("Not_A_Name", "{}", "unknown node"),
            (enrolled.Name, EnrollmentClient.Enrollment(enrolled, enrolledKey), "node is enrolled, not awaiting enrollment"),
            (removed.Name, EnrollmentClient.Enrollment(removed, removedKey), "node is removed, not awaiting enrollment"),
            (created.Name, EnrollmentClient.Enrollment(created with { Secret = wrongSecret }, createdKey), "enrollment secret signature refused (BadSignature)"),
            (created.Name, "{not json", "not a general JWS with an HS256 and a data-key signature (Malformed)"),
        };
        foreach (var (name, body, logged) in enrollments)
        {
            Uniform(Enroll(name, body), "enrollment refused");
            Logged($"POST /api/v1/node/{name}/enroll from 127.0.0.1: 401 enrollment refused ({logged})");
        }

        using var tls = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string Renewal(string name, Jwk key) =>
            JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(EnrollmentClient.Payload(DateTimeOffset.UtcNow, EnrollmentClient.Csr($"CN={name}", tls, EnrollmentClient.San(name)), null)), key);
        var impostor = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: enrolled.Name);
        var renewals = new (string Name, Jwk Key, string Logged)[]
        {
            (nobody, enrolledKey, "unknown node"),
            (created.Name, createdKey, "node is created; only enrolled nodes renew"),
            (removed.Name, removedKey, "node is removed; only enrolled nodes renew"),
            (enrolled.Name, impostor, "renewal signature refused (BadSignature)"),
        };
        using var client = EnrollmentClient.Client(core);
        foreach (var (name, key, logged) in renewals)
        {
            Uniform(EnrollmentClient.Post(client, $"api/v1/node/{name}/renew", Renewal(name, key)), "renewal refused");
            Logged($"POST /api/v1/node/{name}/renew from 127.0.0.1: 401 renewal refused ({logged})");
        }
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
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key)), 401, "enrollment refused", $"/{creds.Name}/enroll from 127.0.0.1: 401 enrollment refused (enrollment secret expired)");
    }

    [Fact]
    public void ReusedSecret()
    {
        var (creds, key) = Node("reused.example.net");
        Assert.Equal(200, Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key)).Status);
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key)), 401, "enrollment refused", $"/{creds.Name}/enroll from 127.0.0.1: 401 enrollment refused (node is enrolled, not awaiting enrollment)");
    }

    [Fact]
    public void SecretOfAnotherNode()
    {
        var (a, key) = Node("victim.example.net");
        var (b, _) = Node("other.example.net");
        var forged = new Credentials(a.Name, b.Secret);
        Refused(Enroll(a.Name, EnrollmentClient.Enrollment(forged, key)), 401, "enrollment refused", $"/{a.Name}/enroll from 127.0.0.1: 401 enrollment refused (enrollment secret signature refused (KeyNotFound))");
    }

    [Fact]
    public void WrongHmac()
    {
        var (creds, key) = Node("wronghmac.example.net");
        var wrong = JwkGenerator.Generate(JwsAlgorithm.HS256, kid: creds.Secret.Kid);
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds with { Secret = wrong }, key)), 401, "enrollment refused", $"/{creds.Name}/enroll from 127.0.0.1: 401 enrollment refused (enrollment secret signature refused (BadSignature))");
    }

    [Fact]
    public void MissingDataKeySignature()
    {
        var (creds, key) = Node("nodatasig.example.net");
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key, signers: [creds.Secret])), 401, "enrollment refused", $"/{creds.Name}/enroll from 127.0.0.1: 401 enrollment refused (not a general JWS with an HS256 and a data-key signature (Malformed))");
    }

    [Fact]
    public void DataKeySignatureByAnotherKey()
    {
        var (creds, key) = Node("otherkey.example.net");
        var other = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: creds.Name);
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key, signers: [creds.Secret, other])), 401, "data-key signature: signature does not verify", $"/{creds.Name}/enroll from 127.0.0.1: 401 data-key signature: signature does not verify (data-key signature: BadSignature)");
    }

    [Fact]
    public void PublicKeyKidIsNotTheName()
    {
        var (creds, _) = Node("kid.example.net");
        var key = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "someone.example.net");
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key)), 403, "kid: must be the node's name", $"/{creds.Name}/enroll from 127.0.0.1: 403 kid: must be the node's name (kid: NameMismatch, public_key or data-key signature kid is not the node name)");
    }

    [Theory]
    // The wire timestamp has whole seconds and the request takes time to arrive, so ±301 s could land back
    // inside the window (CI saw it once); ±310 s is outside it however the second falls.
    [InlineData(-310)]
    [InlineData(310)]
    public void TimestampOutsideTheWindow(int seconds)
    {
        var (creds, key) = Node($"time{(seconds < 0 ? "old" : "new")}.example.net");
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key, timestamp: DateTimeOffset.UtcNow.AddSeconds(seconds))), 400, seconds < 0 ? "timestamp: too old" : "timestamp: too far in the future",
            $"/{creds.Name}/enroll from 127.0.0.1: 400 timestamp: {(seconds < 0 ? "too old (timestamp: TooOld)" : "too far in the future (timestamp: NotYetValid)")}");
    }

    public static TheoryData<string, int, string, string> BadCsrs() => new()
    {
        { "cn", 403, "must be the node's name", "NameMismatch" },
        { "san", 403, "must be the node's name", "NameMismatch" },
        { "extension", 400, "only a subjectAltName extension is allowed", "ExtensionNotAllowed" },
        { "ca", 400, "only a subjectAltName extension is allowed", "ExtensionNotAllowed" },
        { "rsa1024", 400, "algorithm or key type not allowed", "AlgorithmNotAllowed" },
        { "p192", 400, "algorithm or key type not allowed", "AlgorithmNotAllowed" },
        { "p384", 400, "algorithm or key type not allowed", "AlgorithmNotAllowed" },
        { "signature", 401, "signature does not verify", "BadSignature" },
        { "badsan", 400, "malformed", "Malformed" },
    };

    [Theory]
    [MemberData(nameof(BadCsrs))]
    public void CsrRules(string flaw, int status, string reason, string rejection)
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
            // a dNSName that claims 5 bytes and has 1: the BCL throws when it enumerates the names
            "badsan" => EnrollmentClient.Csr($"CN={name}", p256, new X509Extension("2.5.29.17", [0x30, 0x03, 0x82, 0x05, 0x41], false)),
            _ => CorruptSignature(EnrollmentClient.Csr($"CN={name}", p256)),
        };
        Refused(Enroll(name, EnrollmentClient.Enrollment(creds, key, csr: csr)), status, $"x509_csr: {reason}", $"/{name}/enroll from 127.0.0.1: {status} x509_csr: {reason} (x509_csr: {rejection})");
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
        Refused(Enroll(creds.Name, "{not json"), 401, "enrollment refused", $"/{creds.Name}/enroll from 127.0.0.1: 401 enrollment refused (not a general JWS with an HS256 and a data-key signature (Malformed))");
        Refused(Enroll(creds.Name, new string('a', 70_000)), 413, "request body: too large");
        Refused(Enroll("no-such-node.example.net", "{}"), 401, "enrollment refused", "/no-such-node.example.net/enroll from 127.0.0.1: 401 enrollment refused (unknown node)");
    }

    [Fact]
    public void RemovedNodeCannotEnroll()
    {
        var (creds, key) = Node("gone.example.net");
        Assert.Equal(0, core.Tapir("core", "node", "remove", creds.Name).ExitCode);
        Refused(Enroll(creds.Name, EnrollmentClient.Enrollment(creds, key)), 401, "enrollment refused", $"/{creds.Name}/enroll from 127.0.0.1: 401 enrollment refused (node is removed, not awaiting enrollment)");
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
        Refused(EnrollmentClient.Post(client, $"api/v1/node/{creds.Name}/renew", renewal), 400, "renewal: replayed", $"/{creds.Name}/renew from 127.0.0.1: 400 renewal: replayed (renewal: Replayed, its timestamp is not later than the last renewal's)");

        var impostor = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: creds.Name);
        string foreign = JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(payload), impostor);
        Refused(EnrollmentClient.Post(client, $"api/v1/node/{creds.Name}/renew", foreign), 401, "renewal refused", $"/{creds.Name}/renew from 127.0.0.1: 401 renewal refused (renewal signature refused (BadSignature))");

        Assert.Equal(0, core.Tapir("core", "node", "remove", creds.Name).ExitCode);
        string late = JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(EnrollmentClient.Payload(DateTimeOffset.UtcNow, EnrollmentClient.Csr($"CN={creds.Name}", tls, EnrollmentClient.San(creds.Name)), null)), key);
        Refused(EnrollmentClient.Post(client, $"api/v1/node/{creds.Name}/renew", late), 401, "renewal refused", $"/{creds.Name}/renew from 127.0.0.1: 401 renewal refused (node is removed; only enrolled nodes renew)");
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
