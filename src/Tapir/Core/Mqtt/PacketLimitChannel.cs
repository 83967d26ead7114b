// The embedded broker's maximum packet size (DESIGN §6.1), enforced under MQTTnet: this channel
// follows the MQTT framing of everything the client sends (fixed header byte, Remaining Length as
// a 1–4 byte variable integer, then that many bytes) and, as soon as a packet's header says it is
// larger than the limit, or its length field is malformed, closes the connection and reports it
// closed, before MQTTnet has read that header to its end (MQTTnet allocates the declared length
// at once). Nothing beyond the bytes received is allocated for a refused packet. The limit is
// advertised to MQTT 5 clients in the CONNACK (Maximum Packet Size), which MQTTnet 5.2 always
// sends without one.
using System.Buffers;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Channel;
using Tapir.Logging;

namespace Tapir.Core.Mqtt;

public sealed class PacketLimitChannel(IMqttChannel inner, int maxPacketBytes, BrokerAccess access) : IMqttChannel
{
    private bool inLength; // reading a Remaining Length (after the packet type byte)
    private int lengthBytes;
    private long declared;
    private long body; // bytes of the current packet's body still to come
    private bool refused;
    private bool connackSent;

    public X509Certificate2 ClientCertificate => inner.ClientCertificate;

    public EndPoint RemoteEndPoint => inner.RemoteEndPoint;

    public EndPoint LocalEndPoint => inner.LocalEndPoint;

    public bool IsSecureConnection => inner.IsSecureConnection;

    public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

    public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

    public Task WriteAsync(ReadOnlySequence<byte> buffer, bool isEndOfPacket, CancellationToken cancellationToken)
    {
        if (!connackSent && isEndOfPacket && !buffer.IsEmpty && buffer.FirstSpan[0] == 0x20)
        {
            connackSent = true;
            buffer = new ReadOnlySequence<byte>(Advertised(buffer.ToArray(), maxPacketBytes));
        }
        return inner.WriteAsync(buffer, isEndOfPacket, cancellationToken);
    }

    /// <summary>
    /// An MQTT 5 CONNACK (MQTTnet writes it whole, without Maximum Packet Size, which means none)
    /// with the Maximum Packet Size property (0x27) added; an MQTT 3.1.1 CONNACK (Remaining Length
    /// 2, no properties), or one too long for 1-byte lengths, unchanged.
    /// </summary>
    internal static byte[] Advertised(byte[] connack, int maxPacketBytes)
    {
        if (connack.Length is < 5 or > 124 || connack[1] != connack.Length - 2 || connack[4] != connack.Length - 5)
        {
            return connack; // MQTT 3.1.1, or not the short CONNACK this expects: sent as it is
        }
        byte[] property = [0x27, (byte)(maxPacketBytes >> 24), (byte)(maxPacketBytes >> 16), (byte)(maxPacketBytes >> 8), (byte)maxPacketBytes];
        return [0x20, (byte)(connack[1] + 5), connack[2], connack[3], (byte)(connack[4] + 5), .. connack.AsSpan(5), .. property];
    }

    public async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        if (refused)
        {
            return 0;
        }
        int read = await inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
        if (Follow(buffer.AsSpan(offset, read)) is string reason)
        {
            refused = true;
            inner.Dispose(); // closes the TLS stream and the socket now
            access.CountRefusal();
            Log.Refusal($"MQTT connection from {RemoteEndPoint} ({PeerName()}) closed: {reason}");
            return 0; // MQTTnet sees the connection closed
        }
        return read;
    }

    /// <summary>Advances the framing over bytes just received; the refusal reason, or null.</summary>
    private string? Follow(ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            if (body > 0)
            {
                int skip = (int)Math.Min(body, bytes.Length - i);
                body -= skip;
                i += skip;
                continue;
            }
            byte b = bytes[i++];
            if (!inLength)
            {
                (inLength, lengthBytes, declared) = (true, 0, 0);
                continue;
            }
            declared |= (long)(b & 0x7f) << (7 * lengthBytes++);
            if ((b & 0x80) != 0)
            {
                if (lengthBytes == 4)
                {
                    return "malformed Remaining Length (more than 4 bytes)";
                }
                continue;
            }
            inLength = false;
            long size = 1 + lengthBytes + declared;
            if (size > maxPacketBytes)
            {
                return $"packet of {size} bytes declared, the maximum packet size is {maxPacketBytes}";
            }
            body = declared;
        }
        return null;
    }

    private string PeerName() => ClientCertificate?.GetNameInfo(X509NameType.SimpleName, false) ?? "no certificate";

    public void Dispose() => inner.Dispose();
}
