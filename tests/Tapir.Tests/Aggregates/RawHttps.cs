// A hand-rolled HTTP/1.1 client over real TLS for the aggregate tests: it sends exactly the bytes
// a test writes (duplicate fields, chunked bodies, bodies longer or shorter than Content-Length,
// request targets HttpClient would normalise), with or without the node's client certificate,
// and reads one response at a time from a kept-alive connection.
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Tapir.Tests.Core;

namespace Tapir.Tests.Aggregates;

internal sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Location => Headers.GetValueOrDefault("location");
}

internal sealed class RawHttps : IDisposable
{
    private readonly TcpClient tcp;
    private readonly SslStream tls;

    public RawHttps(CoreProcess core, X509Certificate2? clientCertificate)
    {
        tcp = new TcpClient("127.0.0.1", core.Port) { NoDelay = true };
        var root = core.Root;
        tls = new SslStream(tcp.GetStream());
        tls.AuthenticateAsClient(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
            RemoteCertificateValidationCallback = Tapir.Tests.Core.EnrollmentClient.TrustsOnly(root),
        });
        tls.ReadTimeout = 20_000;
    }

    /// <summary>Sends a request: the request line, the header lines as given, an empty line, then the body bytes.</summary>
    public void Write(string target, IEnumerable<(string Name, string Value)> headers, ReadOnlySpan<byte> body, string method = "POST")
    {
        var head = new StringBuilder($"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        head.Append("\r\n");
        tls.Write(Encoding.Latin1.GetBytes(head.ToString()));
        tls.Write(body);
        tls.Flush();
    }

    public RawResponse Send(string target, IEnumerable<(string Name, string Value)> headers, ReadOnlySpan<byte> body, string method = "POST")
    {
        Write(target, headers, body, method);
        return Read();
    }

    /// <summary>Closes the sending side (the TLS close_notify, then FIN) while the reading side stays open.</summary>
    public void CloseSending()
    {
        tls.ShutdownAsync().GetAwaiter().GetResult();
        tcp.Client.Shutdown(SocketShutdown.Send);
    }

    public RawResponse Read() => Read(out _);

    public RawResponse Read(out byte[] body)
    {
        string statusLine = ReadLine();
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (string line = ReadLine(); line.Length > 0; line = ReadLine())
        {
            int colon = line.IndexOf(':');
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        int length = headers.TryGetValue("content-length", out var cl) ? int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture) : 0;
        body = new byte[length];
        tls.ReadExactly(body);
        return new RawResponse(int.Parse(statusLine.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), headers, Encoding.UTF8.GetString(body));
    }

    private string ReadLine()
    {
        var bytes = new List<byte>();
        while (true)
        {
            int b = tls.ReadByte();
            if (b < 0)
            {
                throw new EndOfStreamException($"connection closed after '{Encoding.Latin1.GetString(bytes.ToArray())}'");
            }
            if (b == '\n')
            {
                return Encoding.Latin1.GetString(bytes.ToArray()).TrimEnd('\r');
            }
            bytes.Add((byte)b);
        }
    }

    public void Dispose()
    {
        tls.Dispose();
        tcp.Dispose();
    }
}
