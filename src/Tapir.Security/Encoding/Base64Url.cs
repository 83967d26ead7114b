// base64url without padding (RFC 7515 §2, RFC 4648 §5), decoded strictly: only the 64 URL-safe
// characters, no padding, no white space, no length of 1 mod 4, and the unused trailing bits must
// be zero, so every byte string has exactly one accepted encoding.
namespace Tapir.Security.Encoding;

public static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> data) => System.Buffers.Text.Base64Url.EncodeToString(data);

    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] data)
    {
        data = [];
        if (text.Length % 4 == 1)
        {
            return false;
        }
        foreach (char c in text)
        {
            if (!(c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_'))
            {
                return false;
            }
        }
        byte[] decoded = System.Buffers.Text.Base64Url.DecodeFromChars(text);
        // Canonical: re-encoding gives the same text, which rules out non-zero unused bits.
        if (!text.SequenceEqual(Encode(decoded)))
        {
            return false;
        }
        data = decoded;
        return true;
    }

    public static bool TryDecode(ReadOnlySpan<byte> utf8, out byte[] data)
    {
        if (utf8.Length > 0 && utf8.ContainsAnyExceptInRange((byte)0x21, (byte)0x7e))
        {
            data = [];
            return false;
        }
        return TryDecode(System.Text.Encoding.ASCII.GetString(utf8), out data);
    }
}
