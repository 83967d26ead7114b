// The broker's defences against connections that cost it memory or descriptors (DESIGN §6.1):
// a packet declared larger than mqtt.max_packet_bytes closes the connection before anything of
// that size is allocated (the core's RSS from /proc), a TLS handshake not completed within 10 s
// and a TLS connection without CONNECT are closed, and connections beyond the cap on handshakes
// in progress are closed at once. Real binary, real sockets and TLS on 127.0.0.1.
using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using static Tapir.Tests.Mqtt.BrokerCore;

namespace Tapir.Tests.Mqtt;

public sealed class BrokerLimitTests(BrokerCore broker) : IClassFixture<BrokerCore>
{
    private const int MaxPacket = 512 * 1024; // mqtt.max_packet_bytes' default

    [Fact]
    public void HugeDeclaredPacketsAreRefusedWithoutAllocatingThem()
    {
        long before = RssBytes();
        var connections = Enumerable.Range(0, 10).Select(_ => MutualTls()).ToList();
        foreach (var (_, tls) in connections)
        {
            tls.Write([0x30, 0xff, 0xff, 0xff, 0x7f]); // PUBLISH of 268,435,455 bytes, then nothing
            tls.Flush();
        }
        foreach (var (tcp, tls) in connections)
        {
            Assert.True(ClosedByPeer(tls), "the broker left a connection with a 256 MB PUBLISH header open");
            tls.Dispose();
            tcp.Dispose();
        }
        long grown = RssBytes() - before;
        Assert.True(grown < 50L * 1024 * 1024, $"the core's RSS grew by {grown / 1024 / 1024} MB");
        broker.Core.AssertLogged($"closed: packet of 268435460 bytes declared, the maximum packet size is {MaxPacket}");
    }

    [Fact]
    public void TheConnackAdvertisesTheLimitAndAPacketJustOverItClosesTheConnectionAndOneJustUnderItIsRead()
    {
        string topic = $"events/up/{Edge1}/limit";
        var (under, underClosed) = ConnectAndSend(Edge1 + "-under", Publish(topic, new byte[MaxPacket - 64]));
        Assert.Contains(under, p => p[0] == 0x40); // a PUBACK (the ingress refuses the unsigned payload): the packet was read whole
        Assert.False(underClosed);
        var (over, overClosed) = ConnectAndSend(Edge1 + "-over", Publish(topic, new byte[MaxPacket]));
        Assert.Empty(over);
        Assert.True(overClosed);
        broker.Core.AssertLogged($"({Edge1}) closed: packet of {MaxPacket + topic.Length + 2 + 2 + 1 + 4} bytes declared");
    }

    [Fact]
    public void IdleAndHalfHandshakenConnectionsAreClosedAndTheirNumberIsCapped()
    {
        var clock = Stopwatch.StartNew();
        var idle = Enumerable.Range(0, 300).Select(_ => new TcpClient("127.0.0.1", broker.Core.MqttPort)).ToList();
        idle[0].GetStream().Write([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]); // the start of a ClientHello
        Thread.Sleep(2000);
        int closedAtOnce = idle.Count(c => Closed(c, TimeSpan.FromMilliseconds(10)));
        Assert.Equal(300 - 256, closedAtOnce); // the cap on connections in their TLS handshake
        broker.Core.AssertLogged("refused: 256 connections are already in their TLS handshake");
        Assert.All(idle, c => Assert.True(Closed(c, TimeSpan.FromSeconds(15) - clock.Elapsed), "a connection that sent no handshake is still open"));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(15));
        broker.Core.AssertLogged("refused: not completed within 10 s");
        idle.ForEach(c => c.Dispose());
    }

    [Fact]
    public void ATlsConnectionWithoutConnectIsClosed()
    {
        var clock = Stopwatch.StartNew();
        var (tcp, tls) = MutualTls();
        tls.ReadTimeout = 15_000;
        Assert.True(ClosedByPeer(tls), "a TLS connection without CONNECT is still open");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(15));
        tls.Dispose();
        tcp.Dispose();
    }

    private (List<byte[]> Answers, bool Closed) ConnectAndSend(string clientId, byte[] packet)
    {
        var (tcp, tls) = MutualTls();
        using var _ = tcp;
        using var __ = tls;
        byte[] id = Encoding.UTF8.GetBytes(clientId);
        tls.Write(RawMqtt.Packet(0x10, [0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 5, 0x02, 0, 60, 0, (byte)(id.Length >> 8), (byte)id.Length, .. id]));
        var connack = ReadPacket(tls)!;
        Assert.Equal((byte)0x20, connack[0]);
        Assert.Equal(0, connack[2]); // success
        Assert.Equal([0x27, 0, 0x08, 0, 0], connack[^5..]); // Maximum Packet Size 524288, the last property
        var answers = new List<byte[]>();
        try
        {
            tls.Write(packet);
        }
        catch (IOException)
        {
            return (answers, true); // the broker closed the connection while the packet was being sent
        }
        try
        {
            tls.ReadTimeout = 3000;
            while (ReadPacket(tls) is byte[] answer)
            {
                answers.Add(answer);
            }
            return (answers, true);
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            return (answers, true);
        }
        catch (IOException)
        {
            return (answers, false); // read timeout: still open
        }
    }

    private (TcpClient, SslStream) MutualTls()
    {
        var tcp = new TcpClient("127.0.0.1", broker.Core.MqttPort);
        using var pem = X509Certificate2.CreateFromPemFile(Path.Combine(broker.Dir(Edge1), "tls.crt"), Path.Combine(broker.Dir(Edge1), "tls.key"));
        var tls = new SslStream(tcp.GetStream(), false, Core.EnrollmentClient.TrustsOnly(broker.Core.Root));
        tls.AuthenticateAsClient(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", ClientCertificates = [X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null)] });
        tls.ReadTimeout = 5000;
        return (tcp, tls);
    }

    /// <summary>True when the broker closed (end of stream or reset) within the read timeout, false when the read timed out.</summary>
    private static bool ClosedByPeer(SslStream tls)
    {
        try
        {
            return tls.Read(new byte[1]) == 0;
        }
        catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static bool Closed(TcpClient tcp, TimeSpan within)
    {
        var socket = tcp.Client;
        try
        {
            return socket.Poll(within > TimeSpan.Zero ? within : TimeSpan.Zero, SelectMode.SelectRead) && socket.Receive(new byte[1]) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    private long RssBytes()
    {
        string line = File.ReadLines($"/proc/{broker.Core.Pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    private static byte[] Publish(string topic, byte[] payload) => RawMqtt.PublishRawTopic(Encoding.UTF8.GetBytes(topic), payload);

    private static byte[]? ReadPacket(SslStream tls)
    {
        int first = tls.ReadByte();
        if (first < 0)
        {
            return null;
        }
        int length = 0, shift = 0, b;
        do
        {
            b = tls.ReadByte();
            if (b < 0)
            {
                return null;
            }
            length |= (b & 0x7f) << shift;
            shift += 7;
        }
        while ((b & 0x80) != 0);
        var body = new byte[length];
        tls.ReadExactly(body);
        return [(byte)first, .. body];
    }
}
