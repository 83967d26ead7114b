// EdDSA over raw keys for the vector tests, through EdDsaKey as Jwk uses it: a key that is not a
// valid point (or a signature of the wrong length) verifies as false; a bad private key throws.
using Tapir.Security.Interop;

namespace Tapir.Security.Tests.Interop;

internal static class Ed
{
    public static byte[] Sign(EdCurve curve, ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> message)
    {
        using var key = EdDsaKey.FromPrivate(curve, privateKey);
        return key.Sign(message);
    }

    public static bool Verify(EdCurve curve, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        using var key = EdDsaKey.FromPublic(curve, publicKey);
        return key is not null && key.Verify(message, signature);
    }
}
