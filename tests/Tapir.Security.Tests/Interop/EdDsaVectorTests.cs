// EdDSA through libcrypto against RFC 8032 (Ed25519 §7.1 via RFC 8037 A.4, Ed448 §7.4) and the
// Wycheproof ed25519/ed448 verify suites: every valid vector accepted, every invalid one refused.
using System.Text.Json;
using Tapir.Security.Interop;
using Xunit.Abstractions;

namespace Tapir.Security.Tests.Interop;

public sealed class EdDsaVectorTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("wycheproof/ed25519_test.json", EdCurve.Ed25519)]
    [InlineData("wycheproof/ed448_test.json", EdCurve.Ed448)]
    public void WycheproofVerify(string file, EdCurve curve)
    {
        using var doc = Vectors.Load(file);
        int valid = 0, invalid = 0;
        var failures = new List<string>();
        foreach (var group in doc.RootElement.GetProperty("testGroups").EnumerateArray())
        {
            byte[] publicKey = Vectors.Hex(group.GetProperty("publicKey").GetProperty("pk").GetString()!);
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                string result = test.GetProperty("result").GetString()!;
                bool ok = Ed.Verify(curve, publicKey, Vectors.Hex(test.GetProperty("msg").GetString()!), Vectors.Hex(test.GetProperty("sig").GetString()!));
                bool expected = result == "valid";
                Assert.NotEqual("acceptable", result);
                if (ok != expected)
                {
                    failures.Add($"tcId {test.GetProperty("tcId").GetInt32()}: expected {result}, got {(ok ? "valid" : "invalid")}");
                }
                if (expected) { valid++; } else { invalid++; }
            }
        }
        output.WriteLine($"{file}: {valid} valid, {invalid} invalid vectors run");
        Assert.Equal(doc.RootElement.GetProperty("numberOfTests").GetInt32(), valid + invalid);
        Assert.Empty(failures);
    }

    [Fact]
    public void Rfc8032Ed448SignsByteForByte()
    {
        using var doc = Vectors.Load("jose.json");
        int run = 0;
        foreach (var v in doc.RootElement.GetProperty("ed448").GetProperty("rfc8032_section_7_4_vectors").GetProperty("vectors").EnumerateArray())
        {
            if (v.GetProperty("rfc8032_test").GetString()!.Contains("context", StringComparison.Ordinal))
            {
                continue; // JOSE uses the empty context only; the one context vector does not apply.
            }
            byte[] secret = Vectors.Hex(v.GetProperty("secret_key_hex").GetString()!);
            byte[] message = Vectors.Hex(v.GetProperty("message_hex").GetString()!);
            byte[] signature = Vectors.Hex(v.GetProperty("signature_hex").GetString()!);
            Assert.Equal(v.GetProperty("public_key_hex").GetString(), Convert.ToHexStringLower(EdDsa.PublicKeyOf(EdCurve.Ed448, secret)));
            Assert.Equal(signature, Ed.Sign(EdCurve.Ed448, secret, message));
            Assert.True(Ed.Verify(EdCurve.Ed448, EdDsa.PublicKeyOf(EdCurve.Ed448, secret), message, signature));
            run++;
        }
        output.WriteLine($"RFC 8032 §7.4 Ed448: {run} vectors re-signed");
        Assert.True(run >= 8);
    }

    [Fact]
    public void Rfc8037Ed25519SignsByteForByte()
    {
        using var doc = Vectors.Load("jose.json");
        var rfc = doc.RootElement.GetProperty("rfc8037");
        var jwk = rfc.GetProperty("A.1_private_key").GetProperty("jwk");
        byte[] d = Base64UrlDecode(jwk.GetProperty("d").GetString()!);
        byte[] x = Base64UrlDecode(jwk.GetProperty("x").GetString()!);
        var signing = rfc.GetProperty("A.4_signing");
        byte[] input = System.Text.Encoding.ASCII.GetBytes(signing.GetProperty("signing_input").GetString()!);
        byte[] expected = Base64UrlDecode(signing.GetProperty("signature_b64u").GetString()!);
        Assert.Equal(x, EdDsa.PublicKeyOf(EdCurve.Ed25519, d));
        Assert.Equal(expected, Ed.Sign(EdCurve.Ed25519, d, input));
        Assert.True(Ed.Verify(EdCurve.Ed25519, x, input, expected));
    }

    [Theory]
    [InlineData(EdCurve.Ed25519)]
    [InlineData(EdCurve.Ed448)]
    public void GeneratedKeysRoundTripAndRefuseTampering(EdCurve curve)
    {
        byte[] secret = EdDsa.GeneratePrivateKey(curve);
        byte[] publicKey = EdDsa.PublicKeyOf(curve, secret);
        byte[] message = "tapir"u8.ToArray();
        byte[] signature = Ed.Sign(curve, secret, message);
        Assert.True(Ed.Verify(curve, publicKey, message, signature));
        signature[0] ^= 1;
        Assert.False(Ed.Verify(curve, publicKey, message, signature));
        Assert.False(Ed.Verify(curve, publicKey, message, signature.AsSpan(1)));
        Assert.False(Ed.Verify(curve, publicKey.AsSpan(1), message, signature));
        Assert.Throws<ArgumentException>(() => Ed.Sign(curve, secret.AsSpan(1), message));
    }

    private static byte[] Base64UrlDecode(string text) => System.Buffers.Text.Base64Url.DecodeFromChars(text);
}
