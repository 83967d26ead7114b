// HTTPS to the core from an edge (DESIGN §2, §3): the server certificate must pass the one chain
// validator for the server purpose: serverAuth, from the pinned tapir root alone, naming the host
// dialled (Pki/ChainValidator.cs). No URL a certificate names is fetched: TLS's own chain build
// uses the same no-download, tapir-root-only policy. A refused core is one `tapir: error:` line
// naming the reason. The node's own certificate is presented when it has one. Before a root is
// pinned, the only thing fetched is the root itself, accepted only if its SHA-256 equals
// ca_fingerprint and the server certificate already seen passes the validator under it.
using System.Net.Security;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapir.Security;
using Tapir.Security.Pki;

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
                CertificateChainPolicy = ChainValidator.Policy(root),
                RemoteCertificateValidationCallback = (_, certificate, _, _) => AcceptCore(certificate, root, baseUrl),
                ClientCertificates = clientCertificate is null ? null : new X509CertificateCollection { clientCertificate },
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
            },
        };
        return new HttpClient(new RefusalHandler(handler)) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Fetches /api/v1/ca and returns it only if it matches the pinned fingerprint.</summary>
    public static async Task<X509Certificate2> FetchPinnedRootAsync(Uri baseUrl, string fingerprint, CancellationToken cancel)
    {
        X509Certificate2? seen = null;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // No root is pinned yet: TLS's own chain build trusts nothing and fetches nothing.
                CertificateChainPolicy = ChainValidator.Policy(null),
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
        if (seen is null)
        {
            throw new TapirException($"the core at {baseUrl} presented no TLS certificate.");
        }
        AcceptCore(seen, root, baseUrl);
        return root;
    }

    /// <summary>Refuses a returned certificate that is not for this node and key, or not from the pinned CA.</summary>
    public static void CheckIssued(string pem, string name, ECDsa key, X509Certificate2 root)
    {
        using var issued = X509Certificate2.CreateFromPem(pem);
        using var issuedKey = issued.GetECDsaPublicKey();
        if (!ChainValidator.TryValidate(issued, CertificatePurpose.Client, DateTimeOffset.UtcNow, root, name, out _, out _) || issuedKey is null
            || !issuedKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
        {
            throw new TapirException("the core returned a certificate that is not ours or does not chain to the pinned CA.");
        }
    }

    /// <summary>True for the core's certificate; otherwise throws the refusal the edge prints.</summary>
    private static bool AcceptCore(X509Certificate? certificate, X509Certificate2 root, Uri baseUrl)
    {
        var why = Rejection.ComponentMissing;
        if (certificate is X509Certificate2 server
            && ChainValidator.TryValidate(server, CertificatePurpose.Server, DateTimeOffset.UtcNow, root, baseUrl.IdnHost, out _, out why))
        {
            return true;
        }
        throw new TapirException($"refusing {baseUrl} as the core: its TLS certificate is not a tapir core certificate for {baseUrl.Host} ({why}).");
    }

    /// <summary>Surfaces a refusal thrown during the TLS handshake instead of the transport's wrapper.</summary>
    private sealed class RefusalHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancel)
        {
            try
            {
                return await base.SendAsync(request, cancel).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                for (Exception? x = e.InnerException; x is not null; x = x.InnerException)
                {
                    if (x is TapirException refusal)
                    {
                        ExceptionDispatchInfo.Throw(refusal);
                    }
                }
                throw;
            }
        }
    }
}
