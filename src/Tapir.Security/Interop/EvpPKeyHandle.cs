// Owns one OpenSSL EVP_PKEY; freed exactly once through EVP_PKEY_free.
using System.Runtime.InteropServices;

namespace Tapir.Security.Interop;

internal sealed class EvpPKeyHandle : SafeHandle
{
    public EvpPKeyHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        LibCrypto.EVP_PKEY_free(handle);
        return true;
    }
}
