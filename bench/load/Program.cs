// The one load client of bench/aggregates.sh (DESIGN §5; not part of the product): opens N
// kept-alive mTLS connections (each with an enrolled edge's certificate, the server pinned to the
// tapir root), pre-signs distinct edm-profile submissions (Ed25519 data keys, fresh random bodies),
// then sends them, one request in flight per connection, and prints one line:
//   requests=R seconds=S rate=R/S p50_ms=… p99_ms=… cpu_client_s=…
// It exits 1 if any answer is not the expected status. With large=BYTES it sends one body of that
// size on one connection instead and prints its MB/s. The same client and the same requests are
// pointed at nginx (an mTLS POST sink) for the transport ceiling.
using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;

var options = args.Select(a => a.Split('=', 2)).ToDictionary(a => a[0], a => a[1]);
string Get(string name, string? fallback = null) => options.TryGetValue(name, out var v) ? v : fallback ?? throw new ArgumentException($"missing {name}=");
int port = int.Parse(Get("port"), CultureInfo.InvariantCulture);
var root = X509Certificate2.CreateFromPem(File.ReadAllText(Get("ca")));
var edges = Get("edges").Split(',').Select(Edge.Load).ToArray();
int expect = int.Parse(Get("expect", "201"), CultureInfo.InvariantCulture);
string type = Get("type", "histogram");

if (options.TryGetValue("large", out string? large))
{
    long size = long.Parse(large, CultureInfo.InvariantCulture);
    var body = new byte[size];
    RandomNumberGenerator.Fill(body);
    var head = edges[0].Head(type, body, port);
    await using var connection = await Connection.Open(port, edges[0], root);
    long start = Stopwatch.GetTimestamp();
    int status = await connection.Send(head, body);
    double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bytes={size} seconds={seconds:F3} mb_per_s={size / seconds / 1e6:F1} status={status}"));
    return status == expect ? 0 : 1;
}

int connections = int.Parse(Get("connections"), CultureInfo.InvariantCulture);
int perConnection = int.Parse(Get("requests"), CultureInfo.InvariantCulture) / connections;
int bodySize = int.Parse(Get("size", "4096"), CultureInfo.InvariantCulture);
// Pre-signed, distinct requests: every body is random, so every digest (and stored row) is new.
var requests = new (byte[] Head, byte[] Body)[connections][];
Parallel.For(0, connections, c =>
{
    requests[c] = new (byte[], byte[])[perConnection];
    for (int i = 0; i < perConnection; i++)
    {
        var body = RandomNumberGenerator.GetBytes(bodySize);
        requests[c][i] = (edges[c % edges.Length].Head(type, body, port), body);
    }
});
var open = await Task.WhenAll(Enumerable.Range(0, connections).Select(c => Connection.Open(port, edges[c % edges.Length], root)));
var latencies = new double[connections][];
int failures = 0;
var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
long began = Stopwatch.GetTimestamp();
await Task.WhenAll(Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
{
    latencies[c] = new double[perConnection];
    for (int i = 0; i < perConnection; i++)
    {
        long t = Stopwatch.GetTimestamp();
        int status = await open[c].Send(requests[c][i].Head, requests[c][i].Body);
        latencies[c][i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        if (status != expect && Interlocked.Increment(ref failures) <= 5)
        {
            Console.Error.WriteLine($"tapir-load: connection {c} request {i}: status {status}, expected {expect}");
        }
    }
})));
double elapsed = Stopwatch.GetElapsedTime(began).TotalSeconds;
var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
foreach (var connection in open)
{
    await connection.DisposeAsync();
}
var all = latencies.SelectMany(l => l).Order().ToArray();
double Percentile(double p) => all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"requests={all.Length} seconds={elapsed:F3} rate={all.Length / elapsed:F0} p50_ms={Percentile(0.50):F2} p99_ms={Percentile(0.99):F2} failures={failures} cpu_client_s={cpu:F2}"));
return failures == 0 ? 0 : 1;

/// <summary>An enrolled edge's state directory: node name, TLS identity, data key.</summary>
internal sealed record Edge(string Node, X509Certificate2 Tls, Jwk Key)
{
    public static Edge Load(string directory)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "bootstrap.json")));
        string node = doc.RootElement.GetProperty("name").GetString()!;
        using var pem = X509Certificate2.CreateFromPemFile(Path.Combine(directory, "tls.crt"), Path.Combine(directory, "tls.key"));
        var tls = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        if (!JwkParser.TryParse(File.ReadAllBytes(Path.Combine(directory, "datakey.jwk")), out var key, out var why))
        {
            throw new InvalidDataException($"{directory}/datakey.jwk: {why}");
        }
        return new Edge(node, tls, key);
    }

    /// <summary>The request line and fields of an edm-profile submission of this body, signed now.</summary>
    public byte[] Head(string type, byte[] body, int port)
    {
        string digest = ContentDigest.FieldValueOf(body);
        string created = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        string? alg = HttpSignatureAlgorithm.NameFor(Key);
        string parameters = $"(\"content-type\" \"content-length\" \"content-digest\");created={created}{(alg is null ? "" : $";alg=\"{alg}\"")};keyid=\"{Node}\"";
        string signatureBase = $"\"content-type\": application/binary\n\"content-length\": {body.Length}\n\"content-digest\": {digest}\n\"@signature-params\": {parameters}";
        string signature = Convert.ToBase64String(JwsCrypto.Sign(Key, Key.ImpliedAlgorithm!.Value, Encoding.Latin1.GetBytes(signatureBase)));
        return Encoding.Latin1.GetBytes($"POST /api/v1/aggregate/{type} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/binary\r\n" +
            $"Content-Length: {body.Length}\r\nContent-Digest: {digest}\r\nSignature-Input: sig1={parameters}\r\nSignature: sig1=:{signature}:\r\n\r\n");
    }
}

/// <summary>One kept-alive mTLS connection; one request at a time, the answer read by Content-Length.</summary>
internal sealed class Connection : IAsyncDisposable
{
    private readonly TcpClient tcp;
    private readonly SslStream tls;
    private readonly byte[] buffer = new byte[16384];
    private int start;
    private int end;

    private Connection(TcpClient tcp, SslStream tls)
    {
        this.tcp = tcp;
        this.tls = tls;
    }

    public static async Task<Connection> Open(int port, Edge edge, X509Certificate2 root)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            ClientCertificates = [edge.Tls],
            LocalCertificateSelectionCallback = (_, _, _, _, _) => edge.Tls,
            RemoteCertificateValidationCallback = (_, certificate, _, _) => TrustsOnly(root, certificate),
        });
        return new Connection(tcp, tls);
    }

    private static bool TrustsOnly(X509Certificate2 root, X509Certificate? certificate)
    {
        if (certificate is null)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    /// <summary>Sends the head and the body (in 1 MiB writes), returns the answer's status.</summary>
    public async Task<int> Send(byte[] head, byte[] body)
    {
        await tls.WriteAsync(head);
        for (int offset = 0; offset < body.Length; offset += 1 << 20)
        {
            await tls.WriteAsync(body.AsMemory(offset, Math.Min(1 << 20, body.Length - offset)));
        }
        await tls.FlushAsync();
        return await ReadAnswer();
    }

    private async Task<int> ReadAnswer()
    {
        int headEnd;
        while ((headEnd = buffer.AsSpan(start, end - start).IndexOf("\r\n\r\n"u8)) < 0)
        {
            await Fill();
        }
        string head = Encoding.Latin1.GetString(buffer, start, headEnd);
        start += headEnd + 4;
        int status = int.Parse(head.AsSpan(9, 3), CultureInfo.InvariantCulture);
        int length = 0;
        foreach (string line in head.Split("\r\n"))
        {
            if (line.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line.AsSpan(15).Trim(), CultureInfo.InvariantCulture);
            }
        }
        while (end - start < length)
        {
            await Fill();
        }
        start += length;
        return status;
    }

    private async Task Fill()
    {
        if (start == end)
        {
            start = end = 0;
        }
        else if (end == buffer.Length)
        {
            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
            end -= start;
            start = 0;
        }
        int read = await tls.ReadAsync(buffer.AsMemory(end));
        if (read == 0)
        {
            throw new EndOfStreamException("the server closed the connection");
        }
        end += read;
    }

    public async ValueTask DisposeAsync()
    {
        await tls.DisposeAsync();
        tcp.Dispose();
    }
}
