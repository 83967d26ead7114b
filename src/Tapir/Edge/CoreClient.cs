// HTTPS to the core from an edge (DESIGN §3): the server certificate must chain to the pinned
// tapir root (never the system store alone) and name the host dialled (DNS SAN or IP SAN); the
// node's own certificate is presented when it has one. Before a root is pinned, the only thing
// fetched is the root itself, which is accepted only if its SHA-256 equals ca_fingerprint and
// the server certificate already seen chains to it.
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapir.Cli;

namespace Tapir.Edge;

public static class CoreClient
{
    public static HttpClient Create(Uri baseUrl, X509Certificate2 root, X509Certificate2? clientCertificate = null)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is X509Certificate2 server && IsValidServer(server, root, baseUrl.Host),
                ClientCertificates = clientCertificate is null ? null : new X509CertificateCollection { clientCertificate },
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
            },
        };
        return new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Fetches /api/v1/ca and returns it only if it matches the pinned fingerprint.</summary>
    public static async Task<X509Certificate2> FetchPinnedRootAsync(Uri baseUrl, string fingerprint, CancellationToken cancel)
    {
        X509Certificate2? seen = null;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // Nothing secret travels on this connection; the certificate is judged below.
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    seen = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                    return seen is not null;
                },
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        string pem = await client.GetStringAsync("api/v1/ca", cancel).ConfigureAwait(false);
        var root = X509Certificate2.CreateFromPem(pem);
        string actual = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(root.RawData));
        if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(actual), System.Text.Encoding.ASCII.GetBytes(fingerprint.ToLowerInvariant())))
        {
            throw new TapirException($"the core's CA certificate ({actual}) does not match ca_fingerprint ({fingerprint}); refusing to enroll.");
        }
        if (seen is null || !IsValidServer(seen, root, baseUrl.Host))
        {
            throw new TapirException($"the core's TLS certificate does not chain to the pinned CA or does not name {baseUrl.Host}.");
        }
        return root;
    }

    public static bool IsValidServerChain(X509Certificate2 certificate, X509Certificate2 root)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    public static bool IsValidServer(X509Certificate2 server, X509Certificate2 root, string host)
    {
        if (!IsValidServerChain(server, root))
        {
            return false;
        }
        var san = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().SingleOrDefault();
        if (san is null)
        {
            return false;
        }
        return IPAddress.TryParse(host.Trim('[', ']'), out var ip)
            ? san.EnumerateIPAddresses().Any(a => a.Equals(ip))
            : san.EnumerateDnsNames().Any(n => string.Equals(n, host, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Refuses a returned certificate that is not for this node and key, or not from the pinned CA.</summary>
    public static void CheckIssued(string pem, string name, ECDsa key, X509Certificate2 root)
    {
        using var issued = X509Certificate2.CreateFromPem(pem);
        using var issuedKey = issued.GetECDsaPublicKey();
        if (Tapir.Security.Pki.CaProfile.NodeNameOf(issued) != name || issuedKey is null || !IsValidServerChain(issued, root)
            || !issuedKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            throw new TapirException("the core returned a certificate that is not ours or does not chain to the pinned CA.");
        }
    }
}
