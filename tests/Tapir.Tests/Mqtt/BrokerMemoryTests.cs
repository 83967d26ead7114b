// Costs per broker connection (issue 11). Memory: the broker sets OpenSSL's
// SSL_MODE_RELEASE_BUFFERS on every connection after its handshake (TlsBufferRelease), so an idle
// connection holds no TLS record buffers. In process: the mode bit is absent on a fresh SslStream
// and present after Apply, and TLS records of every size (up to several full 16 KiB records)
// still go both ways. With the real binary (Native AOT): the broker reports that the mode is set,
// never that it could not be, and a publish much larger than one TLS record is read whole.
// CPU: the broker writes each MQTT packet it sends as one TLS record (no packet fragmentation),
// counted on the wire by a client that parses the TLS record headers under its SslStream.
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

    [Fact]
    public void APublishTheBrokerSendsIsOneTlsRecord()
    {
        using var tcp = new TcpClient("127.0.0.1", broker.Core.MqttPort);
        var wire = new RecordCounter(tcp.GetStream());
        using var pem = X509Certificate2.CreateFromPemFile(Path.Combine(broker.Dir(Edge1), "tls.crt"), Path.Combine(broker.Dir(Edge1), "tls.key"));
        using var tls = new SslStream(wire, false, Core.EnrollmentClient.TrustsOnly(broker.Core.Root));
        // TLS 1.2: no session tickets after the handshake, so every application-data record is an MQTT packet's.
        tls.AuthenticateAsClient(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12,
            ClientCertificates = [X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null)],
        });
        tls.ReadTimeout = 5000;
        byte[] id = Encoding.UTF8.GetBytes(Edge1 + "-records");
        tls.Write(RawMqtt.Packet(0x10, [0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 5, 0x02, 0, 60, 0, (byte)(id.Length >> 8), (byte)id.Length, .. id]));
        Assert.Equal((byte)0x20, RawMqtt.Read(tls)![0]);
        int before = wire.ApplicationRecords;
        byte[] filter = Encoding.UTF8.GetBytes("config/down/records");
        tls.Write(RawMqtt.Packet(0x82, [0, 1, 0, (byte)(filter.Length >> 8), (byte)filter.Length, .. filter, 0]));
        Assert.Equal((byte)0x90, RawMqtt.Read(tls)![0]); // SUBACK
        byte[] message = RandomNumberGenerator.GetBytes(300);
        broker.Enqueue("config/down/records", message, retain: false); // the core publishes it from its outbox
        var publish = RawMqtt.Read(tls)!;
        Assert.Equal(0x30, publish[0] & 0xf0);
        Assert.Equal(message, publish[^300..]);
        Assert.Equal(2, wire.ApplicationRecords - before); // SUBACK, PUBLISH: one record each
    }

    /// <summary>Passes a TCP stream through and counts the TLS application-data records (content type 23) read from it.</summary>
    private sealed class RecordCounter(Stream inner) : Stream
    {
        private readonly byte[] header = new byte[5];
        private int headerBytes;
        private int bodyLeft;

        public int ApplicationRecords { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int read = inner.Read(buffer, offset, count);
            Follow(buffer.AsSpan(offset, read));
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int read = await inner.ReadAsync(buffer, cancellationToken);
            Follow(buffer.Span[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private void Follow(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes)
            {
                if (bodyLeft > 0)
                {
                    bodyLeft--;
                    continue;
                }
                header[headerBytes++] = b;
                if (headerBytes == 5)
                {
                    headerBytes = 0;
                    bodyLeft = (header[3] << 8) | header[4];
                    if (header[0] == 23)
                    {
                        ApplicationRecords++;
                    }
                }
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Flush() => inner.Flush();

        public override bool CanTimeout => inner.CanTimeout;

        public override int ReadTimeout { get => inner.ReadTimeout; set => inner.ReadTimeout = value; }

        public override int WriteTimeout { get => inner.WriteTimeout; set => inner.WriteTimeout = value; }

        public override bool CanRead => true;

        public override bool CanWrite => true;

        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
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
