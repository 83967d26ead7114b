// Owns one OpenSSL EVP_MD_CTX; freed exactly once through EVP_MD_CTX_free.
using System.Runtime.InteropServices;

namespace Tapir.Security.Interop;

internal sealed class EvpMdCtxHandle : SafeHandle
{
    public EvpMdCtxHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        LibCrypto.EVP_MD_CTX_free(handle);
        return true;
    }
}
