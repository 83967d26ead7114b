// A hand-written MQTT 5 client over real TLS for packets no library will send (a topic longer than
// MQTT's 16-bit length field): CONNECT, one PUBLISH as raw bytes, then whatever the broker answers.
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Tapir.Tests.Mqtt;

internal static class RawMqtt
{
    /// <summary>Connects as the certificate's node, sends <paramref name="publish"/>, returns the CONNACK reason, the packets read, and whether the broker closed the connection (else the 5 s read timeout ended it).</summary>
    public static (int Connack, List<byte[]> Answers, bool Closed) Exchange(int port, string certFile, string keyFile, X509Certificate2 root, string clientId, byte[] publish)
    {
        using var tcp = new TcpClient("127.0.0.1", port);
        using var certificate = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        using var tls = new SslStream(tcp.GetStream(), false, Core.EnrollmentClient.TrustsOnly(root));
        tls.AuthenticateAsClient(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", ClientCertificates = [X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null)] });
        tls.ReadTimeout = 5000;
        byte[] id = Encoding.UTF8.GetBytes(clientId);
        byte[] variable = [0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 5, 0x02, 0, 60, 0, (byte)(id.Length >> 8), (byte)id.Length, .. id];
        tls.Write(Packet(0x10, variable));
        var connack = Read(tls) ?? throw new IOException("no CONNACK");
        tls.Write(publish);
        var answers = new List<byte[]>();
        try
        {
            while (Read(tls) is byte[] answer)
            {
                answers.Add(answer);
            }
            return (connack[3], answers, true);
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            return (connack[3], answers, true);
        }
        catch (IOException)
        {
            return (connack[3], answers, false); // the read timed out: still open
        }
    }

    /// <summary>A PUBLISH (QoS 1, packet id 1) whose topic bytes are written whole but whose 16-bit length field holds only the low 16 bits of their length.</summary>
    public static byte[] PublishWithWrappedTopicLength(string topic, byte[] payload)
    {
        byte[] t = Encoding.UTF8.GetBytes(topic);
        byte[] body = [(byte)(t.Length >> 8), (byte)t.Length, .. t, 0, 1, 0, .. payload];
        return Packet(0x32, body);
    }

    /// <summary>A PUBLISH (MQTT 5, QoS 1, packet id 1) with the topic's bytes exactly as given.</summary>
    public static byte[] PublishRawTopic(byte[] topic, byte[] payload) =>
        Packet(0x32, [(byte)(topic.Length >> 8), (byte)topic.Length, .. topic, 0, 1, 0, .. payload]);

    /// <summary>A packet: the header byte, the body's length as MQTT's variable-length integer, the body.</summary>
    public static byte[] Packet(byte header, byte[] body)
    {
        var bytes = new List<byte> { header };
        int length = body.Length;
        do
        {
            byte b = (byte)(length % 128);
            length /= 128;
            bytes.Add(length > 0 ? (byte)(b | 0x80) : b);
        }
        while (length > 0);
        bytes.AddRange(body);
        return [.. bytes];
    }

    internal static byte[]? Read(SslStream tls)
    {
        int first = tls.ReadByte();
        if (first < 0)
        {
            return null;
        }
        var packet = new List<byte> { (byte)first };
        int length = 0, shift = 0, b;
        do
        {
            b = tls.ReadByte();
            if (b < 0)
            {
                return null;
            }
            packet.Add((byte)b);
            length |= (b & 0x7f) << shift;
            shift += 7;
        }
        while ((b & 0x80) != 0);
        byte[] rest = new byte[length];
        tls.ReadExactly(rest);
        packet.AddRange(rest);
        return [.. packet];
    }
}
