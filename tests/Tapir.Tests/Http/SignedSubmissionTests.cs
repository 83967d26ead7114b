// The RFC 9421 client handler against the Kestrel-side verifier over real TLS on 127.0.0.1: a
// signed POST is accepted with its digest checked while streaming; a request altered after
// signing, a wrong key and an unsigned request are refused with the exact reason.
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tapir.Core.Aggregates;
using Tapir.Edge.Submit;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;

namespace Tapir.Tests.Http;

public sealed class SignedSubmissionTests : IAsyncLifetime
{
    private static readonly Jwk Edge = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "edge1.example.net");
    private WebApplication? app;
    private X509Certificate2? certificate;
    private int port;

    public async Task InitializeAsync()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", ecdsa, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        app = builder.Build();
        app.MapPost("/api/v1/aggregate/{type}", async (HttpContext context) =>
        {
            var policy = HttpSignaturePolicy.Aggregates(TimeSpan.FromHours(24));
            if (!SignedRequest.TryVerify(context.Request, policy, k => k == Edge.Kid ? Edge.PublicKey() : null, DateTimeOffset.UtcNow, out _, out var why))
            {
                return Results.Text($"signature: {why}", statusCode: 401);
            }
            using var digest = new ContentDigest();
            var buffer = new byte[8192];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                digest.Append(buffer.AsSpan(0, read));
            }
            return digest.TryMatch(context.Request.Headers["Content-Digest"].ToString(), out why)
                ? Results.Text($"ok {digest.Length}", statusCode: 201)
                : Results.Text($"digest: {why}", statusCode: 400);
        });
        await app.StartAsync();
        port = new Uri(app.Urls.First()).Port;
    }

    public async Task DisposeAsync()
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        certificate?.Dispose();
    }

    private HttpClient Client(Jwk key, Action<HttpRequestMessage>? afterSigning = null)
    {
        var tls = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == certificate!.GetCertHashString(),
            },
        };
        HttpMessageHandler inner = afterSigning is null ? tls : new AfterSigning(afterSigning) { InnerHandler = tls };
        return new HttpClient(new SigningHandler(key, "edge1.example.net", TimeProvider.System) { InnerHandler = inner })
        {
            BaseAddress = new Uri($"https://127.0.0.1:{port}/"),
        };
    }

    private static ByteArrayContent Parquet(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.apache.parquet");
        return content;
    }

    [Fact]
    public async Task SignedSubmissionIsAccepted()
    {
        byte[] body = new byte[300_000];
        new Random(5).NextBytes(body);
        using var client = Client(Edge);
        using var response = await client.PostAsync("api/v1/aggregate/histogram", Parquet(body));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"ok {body.Length}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task StreamedSubmissionWithPrecomputedDigestIsAccepted()
    {
        string path = Path.GetTempFileName();
        try
        {
            var data = new byte[2_000_000];
            new Random(6).NextBytes(data);
            await File.WriteAllBytesAsync(path, data);
            using var digest = new ContentDigest();
            await using (var file = File.OpenRead(path))
            {
                var buffer = new byte[65536];
                int read;
                while ((read = await file.ReadAsync(buffer)) > 0)
                {
                    digest.Append(buffer.AsSpan(0, read));
                }
            }
            await using var stream = File.OpenRead(path);
            var content = new StreamContent(stream);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.apache.parquet");
            content.Headers.ContentLength = digest.Length;
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/aggregate/histogram") { Content = content };
            request.Headers.TryAddWithoutValidation("Content-Digest", digest.FieldValue("sha-512"));
            using var client = Client(Edge);
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal($"ok {data.Length}", await response.Content.ReadAsStringAsync());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task AlteredAfterSigningIsRefused()
    {
        using var client = Client(Edge, r => r.Content!.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/binary"));
        using var response = await client.PostAsync("api/v1/aggregate/histogram", Parquet([1, 2, 3]));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("signature: BadSignature", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ForeignKeyIsRefused()
    {
        using var client = Client(JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "edge1.example.net"));
        using var response = await client.PostAsync("api/v1/aggregate/histogram", Parquet([1, 2, 3]));
        Assert.Equal("signature: BadSignature", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SwappedBodyFailsTheDigest()
    {
        using var client = Client(Edge, r => r.Content = Parquet([9, 9, 9]));
        using var response = await client.PostAsync("api/v1/aggregate/histogram", Parquet([1, 2, 3]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("digest: DigestMismatch", await response.Content.ReadAsStringAsync());
    }

    private sealed class AfterSigning(Action<HttpRequestMessage> change) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            change(request);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
