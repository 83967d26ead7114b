// Decodes an EdDSA public key as RFC 8032 §5.1.3 (Ed25519) and §5.2.3 (Ed448) do, because
// libcrypto's raw import stores the bytes without decoding them. Refused: non-canonical encodings
// (y >= p, which covers stray Ed448 bits below the sign bit, and x = 0 with the sign bit set), a y
// with no x (off the curve), and the points of small order (the 8 Ed25519 and 4 Ed448 torsion
// points), found by multiplying by the cofactor. Public keys are not secret, so variable-time
// BigInteger arithmetic is fine here.
using System.Numerics;

namespace Tapir.Security.Interop;

internal static class EdwardsPoint
{
    /// <summary>One twisted Edwards curve a·x² + y² = 1 + d·x²·y² (RFC 8032 §5.1, §5.2).</summary>
    private sealed record Curve(bool IsEd25519, BigInteger P, BigInteger A, BigInteger D, int CofactorDoublings, BigInteger SqrtMinusOne);

    private static readonly Curve Ed25519 = MakeEd25519();
    private static readonly Curve Ed448 = MakeEd448();

    /// <summary>True when the bytes decode to a curve point whose order is not small.</summary>
    public static bool IsValidPublicKey(EdCurve curve, ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length != EdDsa.KeyLength(curve))
        {
            return false;
        }
        var c = curve == EdCurve.Ed25519 ? Ed25519 : Ed448;
        // Little-endian y; the top bit of the last byte is the sign (low bit) of x.
        Span<byte> yBytes = stackalloc byte[encoded.Length];
        encoded.CopyTo(yBytes);
        bool xSign = (yBytes[^1] & 0x80) != 0;
        yBytes[^1] &= 0x7f;
        var y = new BigInteger(yBytes, isUnsigned: true);
        if (y >= c.P || !TryRecoverX(c, y, out var x) || x.IsZero && xSign)
        {
            return false;
        }
        // The sign of x is not applied: -P has the same order as P.
        return !IsSmallOrder(c, x, y);
    }

    /// <summary>x with v·x² = u, u = y² − 1, v = d·y² − a (§5.1.3 / §5.2.3 step 2); false when there is none (off the curve).</summary>
    private static bool TryRecoverX(Curve c, BigInteger y, out BigInteger x)
    {
        var u = Mod(c, y * y - 1);
        var v = Mod(c, c.D * y * y - c.A); // never 0: d / a is not a square on either curve
        // The candidate root and the division in one exponentiation, as the RFC writes them.
        x = c.IsEd25519
            ? Mod(c, u * Pow(c, v, 3) * BigInteger.ModPow(Mod(c, u * Pow(c, v, 7)), (c.P - 5) / 8, c.P))
            : Mod(c, Pow(c, u, 3) * v * BigInteger.ModPow(Mod(c, Pow(c, u, 5) * Pow(c, v, 3)), (c.P - 3) / 4, c.P));
        if (Mod(c, v * x * x) != u)
        {
            x = Mod(c, x * c.SqrtMinusOne); // §5.1.3: if v·x² = −u, x·sqrt(−1) is the root; Ed448 has no such step (factor 1)
        }
        return Mod(c, v * x * x) == u;
    }

    /// <summary>Cofactor · (x, y) by doublings in projective coordinates; small order when that is the identity, X = 0 and Y = Z.</summary>
    private static bool IsSmallOrder(Curve c, BigInteger x, BigInteger y)
    {
        BigInteger px = x, py = y, pz = 1;
        for (int i = 0; i < c.CofactorDoublings; i++)
        {
            // RFC 8032 §5.2.4 doubling, with the curve's a kept (a = 1 there), as in dbl-2008-bbjlp.
            // Complete on both curves: Z3 is never 0 for a curve point.
            var b = Mod(c, (px + py) * (px + py));
            var cc = Mod(c, px * px);
            var dd = Mod(c, py * py);
            var e = Mod(c, c.A * cc);
            var f = Mod(c, e + dd);
            var j = Mod(c, f - 2 * pz * pz);
            (px, py, pz) = (Mod(c, (b - cc - dd) * j), Mod(c, f * (e - dd)), Mod(c, f * j));
        }
        return px.IsZero && py == pz;
    }

    private static BigInteger Pow(Curve c, BigInteger value, int exponent) => BigInteger.ModPow(value, exponent, c.P);

    private static BigInteger Mod(Curve c, BigInteger value)
    {
        var r = value % c.P;
        return r.Sign < 0 ? r + c.P : r;
    }

    // Ed25519: p = 2^255 − 19, a = −1, d = −121665/121666, cofactor 8 (three doublings);
    // p ≡ 5 (mod 8), so sqrt(−1) = 2^((p−1)/4) may be needed (§5.1.3).
    private static Curve MakeEd25519()
    {
        var p = BigInteger.Pow(2, 255) - 19;
        var d = (p - 121665) * BigInteger.ModPow(121666, p - 2, p) % p;
        return new Curve(true, p, p - 1, d, 3, BigInteger.ModPow(2, (p - 1) / 4, p));
    }

    // Ed448: p = 2^448 − 2^224 − 1, a = 1, d = −39081, cofactor 4 (two doublings).
    private static Curve MakeEd448()
    {
        var p = BigInteger.Pow(2, 448) - BigInteger.Pow(2, 224) - 1;
        return new Curve(false, p, 1, p - 39081, 2, 1);
    }
}
