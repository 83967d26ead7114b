// What an attacker on the network runs against an edge: a TLS server on 127.0.0.1 presenting a
// certificate the test chooses, counting the HTTP request bytes it receives after the handshake
// and answering 503; and a plain TCP listener that counts the connections made to it (the target
// of an AIA caIssuers URL). Every listener and task it starts, it stops.
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tapir.Tests.Edge;

internal sealed class FakeCore : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly SslStreamCertificateContext context;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private int requestBytes;
    private int connections;

    private readonly string? caPem;

    /// <summary>With <paramref name="caPem"/>, GET /api/v1/ca answers it (relayed from the real core).</summary>
    public FakeCore(X509Certificate2 certificateWithKey, string? caPem = null)
    {
        this.caPem = caPem;
        // offline: this test process must not fetch the AIA URL of its own certificate either.
        context = SslStreamCertificateContext.Create(certificateWithKey, null, offline: true);
        listener.Start();
        loop = Task.Run(AcceptLoop);
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>Bytes of HTTP the edge sent after the handshake (its request, signed renewal included).</summary>
    public int RequestBytes => Volatile.Read(ref requestBytes);

    public int Connections => Volatile.Read(ref connections);

    /// <summary>A leaf signed by the core's own CA key (what the CA would issue), with its private key.</summary>
    public static X509Certificate2 IssueWithCoreCa(string coreStateDir, Func<CertificateRequest, CertificateRequest> profile, string name)
    {
        using var root = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(coreStateDir, "ca.crt")));
        using var rootKey = ECDsa.Create();
        rootKey.ImportFromPem(File.ReadAllText(Path.Combine(coreStateDir, "ca.key")));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = profile(new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));
        var now = DateTimeOffset.UtcNow;
        using var leaf = request.Create(root.SubjectName, X509SignatureGenerator.CreateForECDsa(rootKey), now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(16).Select((b, i) => i == 0 ? (byte)(b & 0x7f | 0x40) : b).ToArray());
        return leaf.CopyWithPrivateKey(key);
    }

    private async Task AcceptLoop()
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            Interlocked.Increment(ref connections);
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        using (client)
        using (var tls = new SslStream(client.GetStream()))
        {
            try
            {
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = context }, stop.Token);
                var buffer = new byte[65536];
                int read = await tls.ReadAsync(buffer, stop.Token);
                Interlocked.Add(ref requestBytes, read);
                if (read > 0 && caPem is not null && System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("GET /api/v1/ca ", StringComparison.Ordinal))
                {
                    Interlocked.Add(ref requestBytes, -read); // fetching the public root is no leak
                    await tls.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\nContent-Length: {caPem.Length}\r\nConnection: close\r\n\r\n{caPem}"), stop.Token);
                }
                else if (read > 0)
                {
                    await tls.WriteAsync("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 9\r\nConnection: close\r\n\r\nfake core"u8.ToArray(), stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or OperationCanceledException or SocketException)
            {
                // the edge hung up: what a refusing edge does
            }
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        loop.Wait(TimeSpan.FromSeconds(10));
        stop.Dispose();
    }
}

/// <summary>Counts every TCP connection made to it and closes it at once.</summary>
internal sealed class ConnectionCounter : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly Task loop;
    private int connections;

    public ConnectionCounter()
    {
        listener.Start();
        loop = Task.Run(async () =>
        {
            while (true)
            {
                try
                {
                    using var client = await listener.AcceptTcpClientAsync();
                    Interlocked.Increment(ref connections);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return;
                }
            }
        });
    }

    public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/ca.der");

    public int Connections => Volatile.Read(ref connections);

    public void Dispose()
    {
        listener.Stop();
        loop.Wait(TimeSpan.FromSeconds(10));
    }
}
