// Pure EdDSA (RFC 8032 §5.1 Ed25519, §5.2 Ed448) through libcrypto: raw keys, empty context,
// no prehash. Callers pass raw private seeds (32 / 57 bytes) and raw public keys (32 / 57 bytes).
// Every public key passes EdwardsPoint's decoding first (libcrypto's raw import does not decode):
// a wrong-length key or signature, or a non-canonical, off-curve or small-order public key,
// verifies as false; only caller mistakes on the signing side throw.
using System.Security.Cryptography;

namespace Tapir.Security.Interop;

public enum EdCurve
{
    Ed25519,
    Ed448,
}

public static class EdDsa
{
    public static int KeyLength(EdCurve curve) => curve == EdCurve.Ed25519 ? 32 : 57;

    public static int SignatureLength(EdCurve curve) => curve == EdCurve.Ed25519 ? 64 : 114;

    /// <summary>A fresh private key: RFC 8032 private keys are uniformly random bytes.</summary>
    public static byte[] GeneratePrivateKey(EdCurve curve) => RandomNumberGenerator.GetBytes(KeyLength(curve));

    public static byte[] PublicKeyOf(EdCurve curve, ReadOnlySpan<byte> privateKey)
    {
        using var key = PrivateKey(curve, privateKey);
        var output = new byte[KeyLength(curve)];
        nuint length = (nuint)output.Length;
        if (LibCrypto.EVP_PKEY_get_raw_public_key(key, output, ref length) != 1 || length != (nuint)output.Length)
        {
            LibCrypto.ERR_clear_error();
            throw new CryptographicException("libcrypto could not derive the EdDSA public key.");
        }
        return output;
    }

    /// <summary>True when the public key is the canonical encoding of a curve point that is not of small order.</summary>
    public static bool IsValidPublicKey(EdCurve curve, ReadOnlySpan<byte> publicKey)
    {
        using var key = EdDsaKey.FromPublic(curve, publicKey);
        return key is not null;
    }

    internal static byte[] SignWith(EvpPKeyHandle key, EdCurve curve, ReadOnlySpan<byte> message)
    {
        using var context = NewContext();
        var signature = new byte[SignatureLength(curve)];
        nuint length = (nuint)signature.Length;
        if (LibCrypto.EVP_DigestSignInit(context, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, key) != 1
            || LibCrypto.EVP_DigestSign(context, signature, ref length, message, (nuint)message.Length) != 1
            || length != (nuint)signature.Length)
        {
            LibCrypto.ERR_clear_error();
            throw new CryptographicException("libcrypto EdDSA signing failed.");
        }
        return signature;
    }

    internal static bool VerifyWith(EvpPKeyHandle key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        using var context = NewContext();
        bool ok = LibCrypto.EVP_DigestVerifyInit(context, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, key) == 1
            && LibCrypto.EVP_DigestVerify(context, signature, (nuint)signature.Length, message, (nuint)message.Length) == 1;
        if (!ok)
        {
            LibCrypto.ERR_clear_error();
        }
        return ok;
    }

    internal static EvpPKeyHandle PrivateKey(EdCurve curve, ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != KeyLength(curve))
        {
            throw new ArgumentException($"An {curve} private key is {KeyLength(curve)} bytes.", nameof(privateKey));
        }
        var key = LibCrypto.EVP_PKEY_new_raw_private_key(Nid(curve), IntPtr.Zero, privateKey, (nuint)privateKey.Length);
        if (key.IsInvalid)
        {
            key.Dispose();
            LibCrypto.ERR_clear_error();
            throw new CryptographicException("libcrypto refused the EdDSA private key.");
        }
        return key;
    }

    private static EvpMdCtxHandle NewContext()
    {
        var context = LibCrypto.EVP_MD_CTX_new();
        if (context.IsInvalid)
        {
            context.Dispose();
            throw new CryptographicException("libcrypto could not allocate a digest context.");
        }
        return context;
    }

    internal static int Nid(EdCurve curve) => curve switch
    {
        EdCurve.Ed25519 => LibCrypto.NidEd25519,
        EdCurve.Ed448 => LibCrypto.NidEd448,
        _ => throw new ArgumentOutOfRangeException(nameof(curve)),
    };
}

/// <summary>
/// An EdDSA key held as one libcrypto EVP_PKEY, so signing does not re-derive the public key and
/// verifying does not re-decode the point on every call. Safe to share across threads: each
/// operation uses its own digest context. Released by Dispose or by its SafeHandle.
/// </summary>
public sealed class EdDsaKey : IDisposable
{
    private readonly EvpPKeyHandle handle;

    private EdDsaKey(EdCurve curve, EvpPKeyHandle handle, bool isPrivate)
    {
        Curve = curve;
        this.handle = handle;
        IsPrivate = isPrivate;
    }

    public EdCurve Curve { get; }

    public bool IsPrivate { get; }

    public static EdDsaKey FromPrivate(EdCurve curve, ReadOnlySpan<byte> privateKey) => new(curve, EdDsa.PrivateKey(curve, privateKey), true);

    /// <summary>Null when the bytes are not a valid public key of the curve (see EdwardsPoint).</summary>
    public static EdDsaKey? FromPublic(EdCurve curve, ReadOnlySpan<byte> publicKey)
    {
        if (!EdwardsPoint.IsValidPublicKey(curve, publicKey))
        {
            return null;
        }
        var key = LibCrypto.EVP_PKEY_new_raw_public_key(EdDsa.Nid(curve), IntPtr.Zero, publicKey, (nuint)publicKey.Length);
        if (key.IsInvalid)
        {
            key.Dispose();
            LibCrypto.ERR_clear_error();
            return null;
        }
        return new EdDsaKey(curve, key, false);
    }

    public byte[] Sign(ReadOnlySpan<byte> message) => IsPrivate
        ? EdDsa.SignWith(handle, Curve, message)
        : throw new InvalidOperationException("a public EdDSA key cannot sign");

    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        signature.Length == EdDsa.SignatureLength(Curve) && EdDsa.VerifyWith(handle, message, signature);

    public void Dispose() => handle.Dispose();
}
