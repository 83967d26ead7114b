// DESIGN §3 on the core's side of the handshake: a client certificate from an unknown CA that
// names an AIA caIssuers URL is refused without the core fetching that URL (the core, like the
// edge, trusts the tapir root alone and downloads nothing a certificate points at).
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapir.Tests.Edge;

namespace Tapir.Tests.Core;

public sealed class ClientCertificateFetchTests
{
    [Fact]
    public void CoreFetchesNothingAClientCertificatePointsAt()
    {
        using var core = new CoreProcess();
        core.Start();
        using var aia = new ConnectionCounter();
        using var foreignKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var foreignRequest = new CertificateRequest("CN=foreign CA", foreignKey, HashAlgorithmName.SHA256);
        foreignRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var foreign = foreignRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=edge1.example.net", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension(null, [aia.Url.OriginalString]));
        using var signed = request.Create(foreign, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), [1, 2, 3, 4]);
        using var client = signed.CopyWithPrivateKey(key);

        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
                // offline: this test process must not fetch the AIA URL of its own certificate.
                ClientCertificateContext = SslStreamCertificateContext.Create(client, null, offline: true),
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = core.BaseUrl };
        var refused = Record.Exception(() => http.GetAsync("healthz").GetAwaiter().GetResult());

        Assert.IsType<HttpRequestException>(refused); // the handshake fails
        Thread.Sleep(500);
        Assert.Equal(0, aia.Connections);
        core.AssertLogged("TLS handshake refused: client certificate CN=edge1.example.net serial 01020304");
    }
}
