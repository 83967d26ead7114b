// sd_notify: one datagram per state to the socket $NOTIFY_SOCKET names (a path, or '@' for an
// abstract name); without one nothing is sent. The target is passed in, so no test changes the
// environment that concurrently started processes inherit.
using System.Net.Sockets;
using Tapir.Logging;

namespace Tapir.Tests.Logging;

public sealed class SystemdNotifyTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadyAndStoppingArriveAsDatagrams(bool abstractName)
    {
        using var dir = new TempDir();
        string name = abstractName ? "tapir-test-" + Guid.NewGuid().ToString("N") : dir.File("notify");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(abstractName ? "\0" + name : name));
        socket.ReceiveTimeout = 5000;
        string target = abstractName ? "@" + name : name;
        Assert.True(SystemdNotify.SendTo(target, "READY=1\nSTATUS=listening"));
        Assert.True(SystemdNotify.SendTo(target, "STOPPING=1"));
        var buffer = new byte[256];
        Assert.Equal("READY=1\nSTATUS=listening", System.Text.Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer)));
        Assert.Equal("STOPPING=1", System.Text.Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer)));
        Assert.False(SystemdNotify.SendTo(null, "READY=1"));
        Assert.False(SystemdNotify.SendTo("relative/path", "READY=1"));
    }
}
