// The few libc calls the host needs that the BCL lacks: fsync of a directory, so that a rename
// is durable (DESIGN §7), and open with O_NOFOLLOW for private key files. Declared here and
// nowhere else in the host.
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Tapir.Storage;

internal static partial class Posix
{
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000; // Linux x86-64 / arm64 value of O_DIRECTORY.

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    public const int ENoEnt = 2;
    public const int ELoop = 40; // Linux, every architecture

    private const int OCloExec = 0x80000; // Linux x86-64 and arm64 alike.

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    public static void FsyncDirectory(string directory)
    {
        int fd = open(directory, ORdOnly | ODirectory);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (fsync(fd) != 0)
            {
                throw new IOException($"cannot sync directory {directory} (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary>Opens a file read-only without following a final symbolic link; null and the errno when that fails.</summary>
    public static SafeFileHandle? OpenNoFollow(string path, out int errno)
    {
        // O_NOFOLLOW differs by architecture: 0x20000 on x86 and x86-64, 0x8000 on arm and arm64.
        int noFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;
        int fd = open(path, ORdOnly | OCloExec | noFollow);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }
}
