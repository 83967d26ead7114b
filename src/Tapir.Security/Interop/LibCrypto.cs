// The libcrypto (OpenSSL 3) binding used for EdDSA. Every native symbol tapir calls is declared
// here and nowhere else, so a reviewer can see the whole native surface at once.
// Only pure EdDSA (RFC 8032 Ed25519 and Ed448, empty context) is bound: no engines, no prehash,
// no contexts. The library is opened lazily by name, so it never shows up in `ldd bin/tapir`.
using System.Runtime.InteropServices;

namespace Tapir.Security.Interop;

internal static partial class LibCrypto
{
    private const string Library = "libcrypto.so.3";

    // NIDs from OpenSSL's obj_mac.h.
    internal const int NidEd25519 = 1087;
    internal const int NidEd448 = 1088;

    [LibraryImport(Library)]
    internal static partial EvpPKeyHandle EVP_PKEY_new_raw_private_key(int type, IntPtr engine, ReadOnlySpan<byte> key, nuint keyLength);

    [LibraryImport(Library)]
    internal static partial EvpPKeyHandle EVP_PKEY_new_raw_public_key(int type, IntPtr engine, ReadOnlySpan<byte> key, nuint keyLength);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_get_raw_public_key(EvpPKeyHandle key, Span<byte> output, ref nuint outputLength);

    [LibraryImport(Library)]
    internal static partial void EVP_PKEY_free(IntPtr key);

    [LibraryImport(Library)]
    internal static partial EvpMdCtxHandle EVP_MD_CTX_new();

    [LibraryImport(Library)]
    internal static partial void EVP_MD_CTX_free(IntPtr context);

    [LibraryImport(Library)]
    internal static partial int EVP_DigestSignInit(EvpMdCtxHandle context, IntPtr keyContext, IntPtr digest, IntPtr engine, EvpPKeyHandle key);

    [LibraryImport(Library)]
    internal static partial int EVP_DigestSign(EvpMdCtxHandle context, Span<byte> signature, ref nuint signatureLength, ReadOnlySpan<byte> message, nuint messageLength);

    [LibraryImport(Library)]
    internal static partial int EVP_DigestVerifyInit(EvpMdCtxHandle context, IntPtr keyContext, IntPtr digest, IntPtr engine, EvpPKeyHandle key);

    [LibraryImport(Library)]
    internal static partial int EVP_DigestVerify(EvpMdCtxHandle context, ReadOnlySpan<byte> signature, nuint signatureLength, ReadOnlySpan<byte> message, nuint messageLength);

    // A failed call leaves entries on the thread's OpenSSL error queue; the BCL shares that queue,
    // so every failure path clears it.
    [LibraryImport(Library)]
    internal static partial void ERR_clear_error();
}
