// Memory per broker connection (issue 11: at most 50 KiB of RSS per connected edge). On Linux,
// SslStream runs each connection on an OpenSSL SSL object, and OpenSSL keeps that object's record
// read buffer and write buffer (up to about 17 KiB each) for the connection's whole life unless
// SSL_MODE_RELEASE_BUFFERS is set; .NET does not set it. With it, OpenSSL frees each buffer as
// soon as it holds no data and allocates it again for the next record (nginx sets it too). The
// mode changes no TLS behaviour (protocol, ciphers, certificate checks), only when the two
// buffers are held. Measured with bench/mqtt.sh at 10,000 edges: 60 -> 46 KiB of RSS per edge.
//
// .NET has no API for the SSL object, so this reads SslStream's private `_securityContext` (a
// SafeHandle whose handle is the SSL*, .NET 10 on Linux) and calls SSL_ctrl(SSL_CTRL_MODE) from
// libssl.so.3 only if that library is already loaded in the process (dlopen with RTLD_NOLOAD; .NET
// loads it for SslStream), so nothing is called in a libssl other than the one .NET uses. Whenever
// one of these steps does not hold (another runtime layout, another libssl), a warning is logged
// once and the connection keeps OpenSSL's default; nothing else changes.
using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using Tapir.Logging;

namespace Tapir.Core.Mqtt;

internal static unsafe partial class TlsBufferRelease
{
    private const string LibSsl = "libssl.so.3";
    private const int SslCtrlMode = 33; // SSL_CTRL_MODE, openssl/ssl.h
    internal const long SslModeReleaseBuffers = 0x10; // SSL_MODE_RELEASE_BUFFERS, openssl/ssl.h
    private const int RtldNow = 2;
    private const int RtldNoLoad = 4;

    // SSL_ctrl(SSL*, int cmd, long larg, void* parg) from the libssl .NET loaded; null when unavailable.
    private static readonly delegate* unmanaged<nint, int, nint, nint, nint> SslCtrl = Resolve();
    private static int reported;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint dlopen(string file, int mode);

    // Kept by the trimmer because it is named here; null when this runtime's SslStream has no such field.
    private static readonly FieldInfo? SecurityContext = typeof(SslStream).GetField("_securityContext", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>
    /// Sets SSL_MODE_RELEASE_BUFFERS on the authenticated <paramref name="tls"/>'s SSL object and
    /// returns the mode now set, or -1 when it could not be (the connection then works as before).
    /// Call it when no read or write is in progress on the stream.
    /// </summary>
    public static long Apply(SslStream tls)
    {
        long mode = Control(tls, SslModeReleaseBuffers);
        if (mode > 0 && (mode & SslModeReleaseBuffers) != 0 && Interlocked.Exchange(ref reported, 1) == 0)
        {
            Log.Info("MQTT broker: OpenSSL frees each connection's idle TLS record buffers (SSL_MODE_RELEASE_BUFFERS)");
        }
        return mode;
    }

    /// <summary>The SSL object's mode bits (SSL_CTRL_MODE with nothing added), or -1 as for Apply.</summary>
    internal static long Mode(SslStream tls) => Control(tls, 0);

    private static long Control(SslStream tls, long add)
    {
        if (SslCtrl is null)
        {
            return Unavailable("libssl.so.3 is not the libssl .NET loaded");
        }
        if (SecurityContext is null)
        {
            return Unavailable("SslStream has no _securityContext field in this runtime");
        }
        if (SecurityContext.GetValue(tls) is not SafeHandle ssl || ssl.IsInvalid || ssl.IsClosed)
        {
            return Unavailable("the stream's _securityContext is not an open SSL handle");
        }
        bool added = false;
        try
        {
            ssl.DangerousAddRef(ref added);
            return SslCtrl(ssl.DangerousGetHandle(), SslCtrlMode, (nint)add, 0);
        }
        finally
        {
            if (added)
            {
                ssl.DangerousRelease();
            }
        }
    }

    private static delegate* unmanaged<nint, int, nint, nint, nint> Resolve()
    {
        nint handle = dlopen(LibSsl, RtldNow | RtldNoLoad);
        return handle != 0 && NativeLibrary.TryGetExport(handle, "SSL_ctrl", out nint ctrl)
            ? (delegate* unmanaged<nint, int, nint, nint, nint>)ctrl
            : null;
    }

    private static long Unavailable(string why)
    {
        if (Interlocked.Exchange(ref reported, 1) == 0)
        {
            Log.Warning($"MQTT broker: OpenSSL read/write buffers are kept for each connection ({why}); memory per connection is higher");
        }
        return -1;
    }
}
