// The real `core serve` under a Type=notify unit's contract: READY=1 reaches $NOTIFY_SOCKET once the
// API accepts connections, and STOPPING=1 when SIGTERM starts the drain, before the exit.
using System.Net.Sockets;

namespace Tapir.Tests.Core;

public sealed class SystemdNotifyCoreTests
{
    [Fact]
    public void CoreServeSaysReadyWhenListeningAndStoppingOnSigterm()
    {
        using var core = new CoreProcess();
        string path = core.File("notify");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.ReceiveTimeout = 20_000;
        core.Environment["NOTIFY_SOCKET"] = path;
        core.Start();
        var buffer = new byte[512];
        string ready = System.Text.Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer));
        Assert.Equal($"READY=1\nSTATUS=listening on 127.0.0.1:{core.Port} (API) and 127.0.0.1:{core.MqttPort} (MQTT)", ready);
        core.Stop();
        Assert.Equal("STOPPING=1", System.Text.Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer)));
    }
}
