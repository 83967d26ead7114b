// Strict DER for ECDSA signatures (RFC 3279 §2.2.3: SEQUENCE { r INTEGER, s INTEGER }): the BCL
// converts DER to r||s leniently (it accepts, for example, an s whose leading zero was dropped,
// which DER makes negative), so tapir checks the encoding itself before trusting a verify: minimal
// DER, positive non-zero integers, no trailing bytes. Used on CSR signatures.
using System.Formats.Asn1;

namespace Tapir.Security.Pki;

public static class DerEcdsaSignature
{
    public static bool IsStrict(ReadOnlySpan<byte> signature)
    {
        try
        {
            var reader = new AsnReader(signature.ToArray(), AsnEncodingRules.DER);
            var sequence = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            for (int i = 0; i < 2; i++)
            {
                var integer = sequence.ReadIntegerBytes().Span;
                if ((integer[0] & 0x80) != 0 || integer.Length == 1 && integer[0] == 0)
                {
                    return false; // negative or zero
                }
            }
            sequence.ThrowIfNotEmpty();
            return true;
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    /// <summary>The signature BIT STRING of a PKCS#10 request (RFC 2986 §4.2), or null.</summary>
    public static byte[]? FromCsr(ReadOnlyMemory<byte> der)
    {
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var request = reader.ReadSequence();
            request.ReadEncodedValue(); // certificationRequestInfo
            request.ReadEncodedValue(); // signatureAlgorithm
            byte[] signature = request.ReadBitString(out int unused);
            request.ThrowIfNotEmpty();
            reader.ThrowIfNotEmpty();
            return unused == 0 ? signature : null;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }
}
