// The key directory and CA endpoints (DESIGN §4.4, §3) on a real core: public_key as JWK and as
// SPKI PEM, configuration only for the node itself, the trusted JWKS, the root PEM, the CRL
// (checked with openssl) listing a removed node's serials, and 404 for unknown or removed nodes.
// Also DESIGN §2: a renewal over mTLS must come from the same node.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tapir.Security.Jose;

namespace Tapir.Tests.Core;

public sealed class DirectoryEndpointTests
{
    internal static (X509Certificate2 Identity, Jwk DataKey) EnrollDirect(CoreProcess core, string name)
    {
        var creds = EnrollmentClient.Read(core.AddNode(name));
        var dataKey = JwkGenerator.Generate(JwsAlgorithm.ES256, kid: name);
        using var tls = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string body = EnrollmentClient.Enrollment(creds, dataKey, csr: EnrollmentClient.Csr($"CN={name}", tls, EnrollmentClient.San(name)));
        using var client = EnrollmentClient.Client(core);
        var (status, json) = EnrollmentClient.Post(client, $"api/v1/node/{name}/enroll", body);
        Assert.Equal(200, status);
        using var doc = JsonDocument.Parse(json);
        using var certificate = X509Certificate2.CreateFromPem(doc.RootElement.GetProperty("x509_certificate").GetString()!);
        using var withKey = certificate.CopyWithPrivateKey(tls);
        return (X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null), dataKey);
    }

    [Fact]
    public async Task DirectoryCaAndCrl()
    {
        using var core = new CoreProcess();
        core.Start();
        var (a, aKey) = EnrollDirect(core, "a.example.net");
        var (b, _) = EnrollDirect(core, "b.example.net");
        using var client = EnrollmentClient.Client(core, a);

        string jwk = await client.GetStringAsync("api/v1/node/b.example.net/public_key");
        Assert.Contains("\"kid\":\"b.example.net\"", jwk);
        Assert.Contains("\"alg\":\"ES256\"", jwk);
        Assert.DoesNotContain("\"d\"", jwk);
        var pemRequest = new HttpRequestMessage(HttpMethod.Get, "api/v1/node/a.example.net/public_key");
        pemRequest.Headers.Accept.ParseAdd("application/x-pem-file");
        string pem = await (await client.SendAsync(pemRequest)).Content.ReadAsStringAsync();
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", pem);
        using (var imported = ECDsa.Create())
        {
            imported.ImportFromPem(pem);
            using var json = JsonDocument.Parse(aKey.ToJson());
            var q = imported.ExportParameters(false).Q;
            Assert.Equal((json.RootElement.GetProperty("x").GetString(), json.RootElement.GetProperty("y").GetString()),
                (Tapir.Security.Encoding.Base64Url.Encode(q.X!), Tapir.Security.Encoding.Base64Url.Encode(q.Y!)));
        }

        using (var own = await client.GetAsync("api/v1/node/a.example.net/configuration"))
        {
            string config = await own.Content.ReadAsStringAsync();
            Assert.Contains("\"mqtt_topics\":{\"config\":\"configuration/a.example.net/config\"", config);
            Assert.DoesNotContain("x509_", config);
        }
        Assert.Equal(403, (int)(await client.GetAsync("api/v1/node/b.example.net/configuration")).StatusCode);
        Assert.Equal(404, (int)(await client.GetAsync("api/v1/node/nobody.example.net/public_key")).StatusCode);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", await client.GetStringAsync("api/v1/ca"));
        Assert.StartsWith("{\"keys\":[", await client.GetStringAsync("api/v1/jwks"));

        Assert.Equal(0, core.Tapir("core", "node", "remove", "b.example.net").ExitCode);
        await Task.Delay(1500);
        Assert.Equal(404, (int)(await client.GetAsync("api/v1/node/b.example.net/public_key")).StatusCode);
        byte[] crl = await client.GetByteArrayAsync("api/v1/crl");
        File.WriteAllBytes(core.File("tapir.crl"), crl);
        var text = Run.Process("openssl", ["crl", "-inform", "DER", "-in", core.File("tapir.crl"), "-noout", "-text", "-CAfile", Path.Combine(core.StateDir, "ca.crt")]);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("verify OK", text.Stderr + text.Stdout);
        Assert.Contains($"Serial Number: {b.SerialNumber}", text.Stdout);
        Assert.DoesNotContain($"Serial Number: {a.SerialNumber}", text.Stdout);
        a.Dispose();
        b.Dispose();
    }

    [Fact]
    public void RenewalOverAnotherNodesCertificateIsRefused()
    {
        using var core = new CoreProcess();
        core.Start();
        var (a, aKey) = EnrollDirect(core, "a.example.net");
        var (b, _) = EnrollDirect(core, "b.example.net");
        using var tls = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string payload = EnrollmentClient.Payload(DateTimeOffset.UtcNow, EnrollmentClient.Csr("CN=a.example.net", tls, EnrollmentClient.San("a.example.net")), null);
        string renewal = JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(payload), aKey);
        using (var asB = EnrollmentClient.Client(core, b))
        {
            var (status, body) = EnrollmentClient.Post(asB, "api/v1/node/a.example.net/renew", renewal);
            Assert.Equal(403, status);
            Assert.Equal("{\"error\":\"client certificate: must be the node's name\"}", body);
        }
        using var asA = EnrollmentClient.Client(core, a);
        Assert.Equal(200, EnrollmentClient.Post(asA, "api/v1/node/a.example.net/renew", renewal).Status);
        a.Dispose();
        b.Dispose();
    }
}
