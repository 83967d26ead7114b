// Renewal hardening (issue 9) against a real core: a renewal is accepted once however its ECDSA
// signature is re-encoded (s → n − s), the superseded certificate is revoked, listed in the CRL
// (checked with openssl) and refused at the handshake within 2 s, and junk requests from others
// never rate-limit a node's own mTLS-authenticated renewal.
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;

namespace Tapir.Tests.Core;

public sealed class RenewalHardeningTests
{
    private static readonly BigInteger P256Order = BigInteger.Parse("0FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static string Renewal(string name, Jwk dataKey, ECDsa tls)
    {
        string payload = EnrollmentClient.Payload(DateTimeOffset.UtcNow, EnrollmentClient.Csr($"CN={name}", tls, EnrollmentClient.San(name)), null);
        return JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(payload), dataKey);
    }

    /// <summary>The same flattened ES256 JWS with its signature (r, s) replaced by (r, n − s), which verifies too.</summary>
    private static string HighSTwin(string jws)
    {
        var json = JsonNode.Parse(jws)!.AsObject();
        Assert.True(Base64Url.TryDecode(json["signature"]!.GetValue<string>(), out byte[] signature));
        Assert.Equal(64, signature.Length);
        var s = new BigInteger(signature.AsSpan(32), isUnsigned: true, isBigEndian: true);
        byte[] twin = (byte[])signature.Clone();
        Assert.True((P256Order - s).TryWriteBytes(twin.AsSpan(32), out int written, isUnsigned: true, isBigEndian: true));
        if (written < 32)
        {
            // TryWriteBytes writes the minimal big-endian form: right-align it in the 32-byte field.
            twin.AsSpan(32, written).CopyTo(twin.AsSpan(64 - written));
            twin.AsSpan(32, 32 - written).Clear();
        }
        json["signature"] = Base64Url.Encode(twin);
        return json.ToJsonString();
    }

    [Fact]
    public void HighSTwinOfAnAcceptedRenewalIsAReplay()
    {
        using var core = new CoreProcess();
        core.Start();
        var (identity, dataKey) = DirectoryEndpointTests.EnrollDirect(core, "twin.example.net");
        identity.Dispose();
        Assert.Equal("ES256", JwsAlgorithms.Name(dataKey.Alg!.Value));
        using var tls = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string renewal = Renewal("twin.example.net", dataKey, tls);
        using var client = EnrollmentClient.Client(core);
        Assert.Equal(200, EnrollmentClient.Post(client, "api/v1/node/twin.example.net/renew", renewal).Status);
        string twin = HighSTwin(renewal);
        Assert.NotEqual(renewal, twin);
        var (status, body) = EnrollmentClient.Post(client, "api/v1/node/twin.example.net/renew", twin);
        Assert.Equal(400, status);
        Assert.Contains("replayed", body);
    }

    [Fact]
    public async Task RenewalRevokesTheSupersededCertificate()
    {
        using var core = new CoreProcess();
        core.Start();
        var (old, dataKey) = DirectoryEndpointTests.EnrollDirect(core, "super.example.net");
        using var tls = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string response;
        using (var asOld = EnrollmentClient.Client(core, old))
        {
            (int status, response) = EnrollmentClient.Post(asOld, "api/v1/node/super.example.net/renew", Renewal("super.example.net", dataKey, tls));
            Assert.Equal(200, status);
        }
        var renewedAt = DateTime.UtcNow;
        using var doc = JsonDocument.Parse(response);
        using var issued = X509Certificate2.CreateFromPem(doc.RootElement.GetProperty("x509_certificate").GetString()!);
        using var withKey = issued.CopyWithPrivateKey(tls);
        using var fresh = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);

        bool refused = false;
        while (!refused && DateTime.UtcNow - renewedAt < TimeSpan.FromSeconds(4))
        {
            using var asOld = EnrollmentClient.Client(core, old);
            try
            {
                using var answer = await asOld.GetAsync("api/v1/jwks");
            }
            catch (HttpRequestException)
            {
                refused = true; // the TLS handshake itself fails
            }
            await Task.Delay(refused ? 0 : 100);
        }
        var took = DateTime.UtcNow - renewedAt;
        Assert.True(refused, "the superseded certificate is still accepted 4 s after the renewal");
        Assert.True(took < TimeSpan.FromSeconds(2), $"the superseded certificate was refused only after {took.TotalSeconds:F1} s");

        using var asNew = EnrollmentClient.Client(core, fresh);
        Assert.StartsWith("{\"keys\":[", await asNew.GetStringAsync("api/v1/jwks"));
        File.WriteAllBytes(core.File("renewal.crl"), await asNew.GetByteArrayAsync("api/v1/crl"));
        var text = Run.Process("openssl", ["crl", "-inform", "DER", "-in", core.File("renewal.crl"), "-noout", "-text", "-CAfile", Path.Combine(core.StateDir, "ca.crt")]);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("verify OK", text.Stderr + text.Stdout);
        Assert.Contains($"Serial Number: {old.SerialNumber}", text.Stdout);
        Assert.DoesNotContain($"Serial Number: {fresh.SerialNumber}", text.Stdout);
        old.Dispose();
    }

    [Fact]
    public void JunkFromOthersNeverLimitsTheNodesOwnRenewal()
    {
        using var core = new CoreProcess();
        core.Start();
        var (identity, dataKey) = DirectoryEndpointTests.EnrollDirect(core, "busy.example.net");
        using (var anonymous = EnrollmentClient.Client(core))
        {
            var answers = Enumerable.Range(0, 60).Select(_ => EnrollmentClient.Post(anonymous, "api/v1/node/busy.example.net/renew", "junk").Status).ToList();
            Assert.Equal(429, answers[^1]); // the junk's own address is limited
        }
        using var tls = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var asNode = EnrollmentClient.Client(core, identity);
        var (status, body) = EnrollmentClient.Post(asNode, "api/v1/node/busy.example.net/renew", Renewal("busy.example.net", dataKey, tls));
        Assert.True(status == 200, $"{status} {body}");
        identity.Dispose();
    }
}
