// sd_notify(3) for Type=notify units (issue 13): a long-running command says READY=1 once it
// listens and STOPPING=1 when a stop begins, as one datagram to the AF_UNIX socket systemd names in
// $NOTIFY_SOCKET (a path, or an abstract name written with a leading '@'). Without that variable
// (not under systemd) every call does nothing. A failure to notify is logged, never fatal.
using System.Net.Sockets;

namespace Tapir.Logging;

public static class SystemdNotify
{
    public static void Ready(string status) => Send($"READY=1\nSTATUS={status}");

    public static void Stopping() => Send("STOPPING=1");

    public static bool Send(string state) => SendTo(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"), state);

    /// <summary>Sends one notification; false when there is no socket to send it to or the send failed.</summary>
    internal static bool SendTo(string? target, string state)
    {
        if (string.IsNullOrEmpty(target) || (target[0] != '/' && target[0] != '@'))
        {
            return false;
        }
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            string address = target[0] == '@' ? "\0" + target[1..] : target;
            socket.SendTo(System.Text.Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(address));
            return true;
        }
        catch (SocketException e)
        {
            Log.Warning($"cannot notify systemd at {target}: {e.Message}");
            return false;
        }
    }
}
