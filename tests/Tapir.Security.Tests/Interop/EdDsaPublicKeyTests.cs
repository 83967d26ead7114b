// EdDSA public-key validation (RFC 8032 §5.1.3, §5.2.3 decoding plus a small-order check): every
// weak encoding of tests/vectors/eddsa-weak-keys and every torsion point in every encoding is
// refused by each way in (JWK with Rejection.WeakOrInvalidKey, raw key; there is no PEM import); fresh keys, the
// Wycheproof keys and mixed-order keys are accepted; the identity-key forgery (R = identity, S = 0)
// is refused.
using System.Buffers.Text;
using System.Numerics;
using System.Security.Cryptography;
using Tapir.Security.Interop;
using Tapir.Security.Jose;
using Xunit.Abstractions;

namespace Tapir.Security.Tests.Interop;

public sealed class EdDsaPublicKeyTests(ITestOutputHelper output)
{
    private static readonly BigInteger P25519 = BigInteger.Pow(2, 255) - 19;
    private static readonly BigInteger P448 = BigInteger.Pow(2, 448) - BigInteger.Pow(2, 224) - 1;

    // y of the Ed25519 points of order 8, the value listed in the EdDSA-validation literature.
    private static readonly BigInteger Y8 = new(Vectors.Hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"), isUnsigned: true);

    private static string CurveName(EdCurve curve) => curve == EdCurve.Ed25519 ? "Ed25519" : "Ed448";

    /// <summary>Asserts that every way a public key enters tapir refuses the bytes.</summary>
    private static void AssertRefused(EdCurve curve, byte[] x, string what)
    {
        string json = $$"""{"kty":"OKP","crv":"{{CurveName(curve)}}","x":"{{Base64Url.EncodeToString(x)}}"}""";
        Assert.False(JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out _, out var why), what);
        Assert.Equal(Rejection.WeakOrInvalidKey, why);
        Assert.False(EdDsa.IsValidPublicKey(curve, x), what);
        Assert.Null(EdDsaKey.FromPublic(curve, x));
    }

    private static void AssertAccepted(EdCurve curve, byte[] x)
    {
        string json = $$"""{"kty":"OKP","crv":"{{CurveName(curve)}}","x":"{{Base64Url.EncodeToString(x)}}"}""";
        Assert.True(JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out _, out var why), $"{Convert.ToHexStringLower(x)}: {why}");
        Assert.True(EdDsa.IsValidPublicKey(curve, x));
    }

    private static byte[] Encode(EdCurve curve, BigInteger y, int sign)
    {
        var bytes = new byte[EdDsa.KeyLength(curve)];
        Assert.True(y.TryWriteBytes(bytes, out _, isUnsigned: true));
        bytes[^1] |= (byte)(sign << 7);
        return bytes;
    }

    [Theory]
    [InlineData("eddsa-weak-keys/ed25519-weak-public-keys.json", EdCurve.Ed25519, 49)]
    [InlineData("eddsa-weak-keys/ed448-weak-public-keys.json", EdCurve.Ed448, 13)]
    public void WeakKeyVectorsAreRefused(string file, EdCurve curve, int count)
    {
        using var doc = Vectors.Load(file);
        Assert.Equal(CurveName(curve), doc.RootElement.GetProperty("curve").GetString());
        int run = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            byte[] x = Vectors.Hex(c.GetProperty("x").GetString()!);
            Assert.Equal(x, Base64Url.DecodeFromChars(c.GetProperty("x_b64url").GetString()));
            AssertRefused(curve, x, c.GetProperty("reason").GetString()!);
            run++;
        }
        output.WriteLine($"{file}: {run} weak keys refused");
        Assert.Equal(count, run);
    }

    /// <summary>The torsion points by their y: Ed25519 has 8 (y = 1, -1, 0, ±Y8), Ed448 has 4 (y = 1, -1, 0).</summary>
    public static TheoryData<EdCurve> Curves => new() { EdCurve.Ed25519, EdCurve.Ed448 };

    [Theory]
    [MemberData(nameof(Curves))]
    public void TorsionPointsInEveryEncodingAreRefused(EdCurve curve)
    {
        var p = curve == EdCurve.Ed25519 ? P25519 : P448;
        BigInteger[] ys = curve == EdCurve.Ed25519 ? [1, p - 1, 0, Y8, p - Y8] : [1, p - 1, 0];
        var limit = BigInteger.Pow(2, EdDsa.KeyLength(curve) * 8 - 1); // y has every bit below the sign bit
        int run = 0;
        foreach (var y in ys)
        {
            // y itself, then every non-canonical y + k·p that still fits the encoding, each with both sign bits.
            for (var encoded = y; encoded < limit; encoded += p)
            {
                AssertRefused(curve, Encode(curve, encoded, 0), $"y = {encoded}, sign 0");
                AssertRefused(curve, Encode(curve, encoded, 1), $"y = {encoded}, sign 1");
                run += 2;
            }
        }
        output.WriteLine($"{curve}: {run} encodings of {(curve == EdCurve.Ed25519 ? 8 : 4)} torsion points refused");
        Assert.True(run >= ys.Length * 2);
    }

    [Fact]
    public void IdentityKeyForgeryIsRefused()
    {
        // Under the identity key, R = identity and S = 0 satisfy a cofactorless check for any message.
        byte[] identity = Encode(EdCurve.Ed25519, 1, 0);
        byte[] forgery = [.. identity, .. new byte[32]];
        byte[] message = RandomNumberGenerator.GetBytes(100);
        Assert.False(Ed.Verify(EdCurve.Ed25519, identity, message, forgery));
        AssertRefused(EdCurve.Ed25519, identity, "identity");
        byte[] identity448 = Encode(EdCurve.Ed448, 1, 0);
        Assert.False(Ed.Verify(EdCurve.Ed448, identity448, message, [.. identity448, .. new byte[57]]));
        AssertRefused(EdCurve.Ed448, identity448, "Ed448 identity");
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void FreshKeysAreAccepted(EdCurve curve)
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => EdDsa.PublicKeyOf(curve, EdDsa.GeneratePrivateKey(curve))).ToList();
        foreach (var x in keys)
        {
            AssertAccepted(curve, x);
            x[^1] ^= 0x80; // -A: the sign of x does not change whether a point is valid
            AssertAccepted(curve, x);
        }
        output.WriteLine($"{curve}: {keys.Count} fresh keys and their negations accepted");
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void MixedOrderKeysAreAccepted(EdCurve curve)
    {
        // A + (0, −1) = (−x, −y) has order 2ℓ: canonical, on the curve and not of small order, so
        // RFC 8032 decoding and the small-order check let it through. Its private key is as unknown
        // as A's, so it forges nothing; refusing it would need a full ℓ·A check.
        var p = curve == EdCurve.Ed25519 ? P25519 : P448;
        byte[] a = EdDsa.PublicKeyOf(curve, EdDsa.GeneratePrivateKey(curve));
        int sign = a[^1] >> 7;
        a[^1] &= 0x7f;
        AssertAccepted(curve, Encode(curve, p - new BigInteger(a, isUnsigned: true), 1 - sign));
    }

    [Theory]
    [InlineData("wycheproof/ed25519_test.json", EdCurve.Ed25519)]
    [InlineData("wycheproof/ed448_test.json", EdCurve.Ed448)]
    public void WycheproofKeysAreAccepted(string file, EdCurve curve)
    {
        using var doc = Vectors.Load(file);
        var keys = doc.RootElement.GetProperty("testGroups").EnumerateArray()
            .Select(g => g.GetProperty("publicKey").GetProperty("pk").GetString()!).Distinct().ToList();
        foreach (var pk in keys)
        {
            AssertAccepted(curve, Vectors.Hex(pk));
        }
        output.WriteLine($"{file}: {keys.Count} distinct group keys accepted");
        Assert.NotEmpty(keys);
    }
}
