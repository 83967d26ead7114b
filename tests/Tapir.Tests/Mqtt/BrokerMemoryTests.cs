// Memory per broker connection (issue 11): the broker sets OpenSSL's SSL_MODE_RELEASE_BUFFERS on
// every connection after its handshake (TlsBufferRelease), so an idle connection holds no TLS
// record buffers. In process: the mode bit is absent on a fresh SslStream and present after
// Apply, and TLS records of every size (up to several full 16 KiB records) still go both ways.
// With the real binary (Native AOT): the broker reports that the mode is set, never that it could
// not be, and a publish much larger than one TLS record is read whole.
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Tapir.Core.Mqtt;
using static Tapir.Tests.Mqtt.BrokerCore;

namespace Tapir.Tests.Mqtt;

public sealed class BrokerMemoryTests(BrokerCore broker) : IClassFixture<BrokerCore>
{
    [Fact]
    public async Task ReleaseBuffersIsSetAfterTheHandshakeAndRecordsOfEverySizeStillFlowBothWays()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = await listener.AcceptTcpClientAsync();
        await using var server = new SslStream(accepted.GetStream());
        await using var peer = new SslStream(client.GetStream(), false, (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString());
        await Task.WhenAll(
            server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }),
            peer.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }));

        long before = TlsBufferRelease.Mode(server);
        Assert.True(before >= 0, "SSL_CTRL_MODE could not be read");
        Assert.Equal(0, before & TlsBufferRelease.SslModeReleaseBuffers);
        long applied = TlsBufferRelease.Apply(server);
        Assert.Equal(before | TlsBufferRelease.SslModeReleaseBuffers, applied);
        Assert.Equal(applied, TlsBufferRelease.Mode(server));

        foreach (int size in new[] { 1, 2, 1000, 16384, 16385, 70_000 })
        {
            byte[] data = RandomNumberGenerator.GetBytes(size);
            await RoundTrip(server, peer, data);
            await RoundTrip(peer, server, data);
        }
        Assert.Equal(applied, TlsBufferRelease.Mode(server));
    }

    [Fact]
    public void TheBrokerSetsTheModeOnItsConnectionsAndReadsAPublishOfManyRecordsWhole()
    {
        string topic = $"events/up/{Edge1}/memory";
        byte[] payload = RandomNumberGenerator.GetBytes(100_000); // about 7 TLS records; not a JWS, so the ingress refuses it
        var (connack, answers, _) = RawMqtt.Exchange(broker.Core.MqttPort, Path.Combine(broker.Dir(Edge1), "tls.crt"), Path.Combine(broker.Dir(Edge1), "tls.key"),
            broker.Core.Root, Edge1 + "-memory", RawMqtt.PublishRawTopic(Encoding.UTF8.GetBytes(topic), payload));
        Assert.Equal(0, connack);
        var puback = Assert.Single(answers, a => a[0] == 0x40);
        Assert.Equal(0x87, puback[4]); // Not authorized: the payload arrived whole and the JWS check refused it
        broker.Core.AssertLogged("level=info msg=\"MQTT broker: OpenSSL frees each connection's idle TLS record buffers (SSL_MODE_RELEASE_BUFFERS)\"");
        Assert.DoesNotContain("OpenSSL read/write buffers are kept", broker.Core.LogText, StringComparison.Ordinal);
    }

    private static async Task RoundTrip(SslStream from, SslStream to, byte[] data)
    {
        var write = from.WriteAsync(data).AsTask();
        byte[] received = new byte[data.Length];
        await to.ReadExactlyAsync(received);
        await write;
        Assert.Equal(data, received);
    }
}
