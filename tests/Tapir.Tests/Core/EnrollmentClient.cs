// Builds enrollment and renewal requests by hand so tests can break exactly one rule at a time,
// and posts them to a real core over TLS pinned to its root.
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tapir.Security.Jose;

namespace Tapir.Tests.Core;

internal sealed record Credentials(string Name, Jwk Secret);

internal static class EnrollmentClient
{
    public static Credentials Read(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        Assert.True(JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(doc.RootElement.GetProperty("key").GetRawText()), out var key, out _));
        return new Credentials(doc.RootElement.GetProperty("name").GetString()!, key);
    }

    public static string Csr(string subject, AsymmetricAlgorithm key, params X509Extension[] extensions)
    {
        var request = key switch
        {
            ECDsa ec => new CertificateRequest(subject, ec, HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("key", nameof(key)),
        };
        foreach (var extension in extensions)
        {
            request.CertificateExtensions.Add(extension);
        }
        return request.CreateSigningRequestPem();
    }

    public static X509Extension San(params string[] names)
    {
        var san = new SubjectAlternativeNameBuilder();
        foreach (var n in names)
        {
            san.AddDnsName(n);
        }
        return san.Build();
    }

    public static string Payload(DateTimeOffset timestamp, string csr, Jwk? publicKey)
    {
        var payload = new JsonObject
        {
            ["timestamp"] = timestamp.ToString("yyyy-MM-ddTHH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture),
            ["x509_csr"] = csr,
        };
        if (publicKey is not null)
        {
            payload["public_key"] = JsonNode.Parse(publicKey.PublicKey().ToJson());
        }
        return payload.ToJsonString();
    }

    /// <summary>A well-formed enrollment for the node, unless the caller overrides a part.</summary>
    public static string Enrollment(Credentials credentials, Jwk dataKey, string? csr = null, DateTimeOffset? timestamp = null, Jwk[]? signers = null, Jwk? publicKey = null)
    {
        using var tls = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string payload = Payload(timestamp ?? DateTimeOffset.UtcNow, csr ?? Csr($"CN={credentials.Name}", tls, San(credentials.Name)), publicKey ?? dataKey);
        return JwsSigner.General(System.Text.Encoding.UTF8.GetBytes(payload), signers ?? [credentials.Secret, dataKey]);
    }

    public static HttpClient Client(CoreProcess core, X509Certificate2? clientCertificate = null)
    {
        var root = core.Root;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = TrustsOnly(root),
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
            },
        };
        return new HttpClient(handler) { BaseAddress = core.BaseUrl };
    }

    /// <summary>Accepts only a server certificate that chains to the given root (the test's pin).</summary>
    public static RemoteCertificateValidationCallback TrustsOnly(X509Certificate2 root) => (_, certificate, _, _) =>
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return certificate is X509Certificate2 c && chain.Build(c);
    };

    public static (int Status, string Body) Post(HttpClient client, string path, string body)
    {
        var content = new StringContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/jose+json");
        using var response = client.PostAsync(path, content).GetAwaiter().GetResult();
        return ((int)response.StatusCode, response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
    }
}
