// The embedded broker's TLS listener (DESIGN §6.1), in place of MQTTnet's own: MQTTnet 5.2 has no
// TLS handshake timeout, no bound on connections still in the handshake and no maximum packet size
// (it allocates a packet's whole declared Remaining Length before reading it). This listener accepts
// on core.mqtt_listen, refuses a connection when HandshakeCap others are still in their handshake,
// gives each handshake HandshakeTimeout, requires a live client certificate (BrokerAccess), and
// hands MQTTnet a channel (PacketLimitChannel) that refuses any packet declared larger than
// mqtt.max_packet_bytes before MQTTnet sees its length. The time from handshake to CONNECT is
// MQTTnet's DefaultCommunicationTimeout (MqttBroker).
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;
using MQTTnet.Server;
using Tapir.Logging;

namespace Tapir.Core.Mqtt;

public sealed class BrokerListener(IPEndPoint endpoint, X509Certificate2 certificate, BrokerAccess access, int maxPacketBytes) : IMqttServerAdapter
{
    /// <summary>As long as the HTTPS API gives a TLS handshake.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Connections allowed in their TLS handshake at once; one more is closed on accept.</summary>
    public const int HandshakeCap = 256;

    private readonly CancellationTokenSource stopping = new();
    private Socket? socket;
    private Task? accepting;
    private int handshaking;

    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    public Task StartAsync(MqttServerOptions options, IMqttNetLogger logger)
    {
        socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(endpoint);
        socket.Listen(512);
        accepting = AcceptAsync(options, logger);
        return Task.CompletedTask;
    }

    public async Task StopAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        socket?.Dispose();
        if (accepting is not null)
        {
            await accepting.ConfigureAwait(false);
        }
    }

    private async Task AcceptAsync(MqttServerOptions options, IMqttNetLogger logger)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await socket!.AcceptAsync(stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (stopping.IsCancellationRequested)
                {
                    return;
                }
                continue; // a connection reset before accept, or the like: keep accepting
            }
            if (Interlocked.Increment(ref handshaking) > HandshakeCap)
            {
                Interlocked.Decrement(ref handshaking);
                Refuse($"MQTT connection from {client.RemoteEndPoint} refused: {HandshakeCap} connections are already in their TLS handshake");
                client.Dispose();
                continue;
            }
            _ = Task.Run(() => ServeAsync(client, options, logger));
        }
    }

    private async Task ServeAsync(Socket client, MqttServerOptions options, IMqttNetLogger logger)
    {
        var remote = client.RemoteEndPoint;
        client.NoDelay = true;
        var tls = new SslStream(new NetworkStream(client, ownsSocket: true), false, (_, presented, _, _) => access.AcceptCertificate(presented));
        try
        {
            if (!await HandshakeAsync(tls, remote).ConfigureAwait(false))
            {
                return;
            }
            TlsBufferRelease.Apply(tls);
            var peer = tls.RemoteCertificate as X509Certificate2;
            var channel = new PacketLimitChannel(new MqttTcpChannel(tls, endpoint, remote, peer), maxPacketBytes, access);
            // Without fragmentation each packet goes to SslStream in one write: one TLS record and one
            // send, where MQTTnet's default writes a PUBLISH's header and payload as two of each.
            using var adapter = new MqttChannelAdapter(channel, new MqttPacketFormatterAdapter(new MqttBufferWriter(options.WriterBufferSize, options.WriterBufferSizeMax)), logger)
            {
                AllowPacketFragmentation = false,
            };
            if (ClientHandler is { } handler)
            {
                await handler(adapter).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Log.Debug($"MQTT connection from {remote} ended: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            await tls.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The TLS handshake within HandshakeTimeout; false (refusal logged) when it failed or timed out.</summary>
    private async Task<bool> HandshakeAsync(SslStream tls, EndPoint? remote)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        timeout.CancelAfter(HandshakeTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                ClientCertificateRequired = true,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                EncryptionPolicy = EncryptionPolicy.RequireEncryption,
            }, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            Refuse($"MQTT TLS handshake from {remote} refused: not completed within {HandshakeTimeout.TotalSeconds:0} s");
            return false;
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException or OperationCanceledException)
        {
            Log.Debug($"MQTT TLS handshake from {remote} failed: {e.GetType().Name}: {e.Message}");
            return false;
        }
        finally
        {
            Interlocked.Decrement(ref handshaking);
        }
    }

    private void Refuse(string message)
    {
        access.CountRefusal();
        Log.Refusal(message);
    }

    public void Dispose()
    {
        socket?.Dispose();
        stopping.Dispose();
    }
}
