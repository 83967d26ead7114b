// base64url without padding (RFC 7515 §2, RFC 4648 §5), decoded strictly by hand: only the 64
// URL-safe characters, no padding, no white space, no length of 1 mod 4, and the unused trailing
// bits must be zero, so every byte string has exactly one accepted encoding.
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
        var output = new byte[text.Length * 3 / 4];
        int bits = 0, accumulator = 0, written = 0;
        foreach (char c in text)
        {
            int value = Value(c);
            if (value < 0)
            {
                return false;
            }
            accumulator = (accumulator << 6) | value;
            bits += 6;
            if (bits >= 8)
            {
                bits -= 8;
                output[written++] = (byte)(accumulator >> bits);
                accumulator &= (1 << bits) - 1;
            }
        }
        if (accumulator != 0)
        {
            return false; // non-zero unused bits: a second spelling of the same bytes
        }
        data = output;
        return true;
    }

    public static bool TryDecode(ReadOnlySpan<byte> ascii, out byte[] data)
    {
        Span<char> chars = ascii.Length <= 1024 ? stackalloc char[ascii.Length] : new char[ascii.Length];
        for (int i = 0; i < ascii.Length; i++)
        {
            chars[i] = (char)ascii[i];
        }
        return TryDecode(chars, out data);
    }

    private static int Value(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '-' => 62,
        '_' => 63,
        _ => -1,
    };
}
