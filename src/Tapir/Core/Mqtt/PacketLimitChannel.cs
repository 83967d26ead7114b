// The embedded broker's maximum packet size (DESIGN §6.1), enforced under MQTTnet: this channel
// follows the MQTT framing of everything the client sends (fixed header byte, Remaining Length as
// a 1–4 byte variable integer, then that many bytes) and, as soon as a packet's header says it is
// larger than the limit, or its length field is malformed, closes the connection and reports it
// closed, before MQTTnet has read that header to its end (MQTTnet allocates the declared length
// at once). Nothing beyond the bytes received is allocated for a refused packet.
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

    public X509Certificate2 ClientCertificate => inner.ClientCertificate;

    public EndPoint RemoteEndPoint => inner.RemoteEndPoint;

    public EndPoint LocalEndPoint => inner.LocalEndPoint;

    public bool IsSecureConnection => inner.IsSecureConnection;

    public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

    public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

    public Task WriteAsync(ReadOnlySequence<byte> buffer, bool isEndOfPacket, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, isEndOfPacket, cancellationToken);

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
