// The JOSE conformance data: RFC 7515 App. A, RFC 8037 App. A, RFC 7638 §3.1, RFC 7520 §4 (both
// the normalised copies in jose.json and the upstream cookbook files), and the derived Ed448 JWS.
// Valid examples verify; deterministic ones (HMAC, RSA v1.5, EdDSA) are re-signed byte for byte.
using System.Text;
using System.Text.Json;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;
using Xunit.Abstractions;
using static Tapir.Security.Tests.Jose.JoseTestKit;

namespace Tapir.Security.Tests.Jose;

public sealed class JoseVectorTests(ITestOutputHelper output)
{
    [Fact]
    public void Rfc7515AppendixA()
    {
        using var doc = Vectors.Load("jose.json");
        int run = 0;
        var examples = doc.RootElement.GetProperty("rfc7515").GetProperty("examples").EnumerateArray().ToList();
        var byId = examples.Where(e => e.TryGetProperty("jwk", out _)).ToDictionary(e => e.Str("id"), e => e.GetProperty("jwk"));
        foreach (var example in examples)
        {
            string id = example.Str("id");
            if (example.TryGetProperty("compact", out var compact))
            {
                if (example.Str("alg") == "none")
                {
                    Assert.Equal(Rejection.AlgorithmNotAllowed, Refusal(compact.GetString()!));
                }
                else
                {
                    CheckSingle(example, Key(example.GetProperty("jwk")));
                }
            }
            else
            {
                // "keys" maps each kid to the App. A example whose key it is: a trusted set by kid.
                var set = new JwkSet(example.GetProperty("keys").EnumerateObject()
                    .Select(k => Key(byId[k.Value.GetString()!.Split(' ')[0]]).WithKid(k.Name)));
                string json = (example.TryGetProperty("json_general", out var g) ? g : example.GetProperty("json_flattened")).GetRawText();
                var policy = new JwsPolicy(JwsAlgorithms.Asymmetric, set);
                Assert.True(JwsVerifier.TryVerify(System.Text.Encoding.UTF8.GetBytes(json), policy, out var verified, out var why), $"{id}: {why}");
                Assert.Equal(example.Str("payload_b64u"), verified.Message.PayloadB64);
                Assert.Equal(set.Keys.Count, verified.Keys.Count);
            }
            output.WriteLine($"{id}: ok");
            run++;
        }
        Assert.Equal(7, run);
    }

    [Fact]
    public void Rfc7520Section4Normalised()
    {
        using var doc = Vectors.Load("jose.json");
        int run = 0;
        foreach (var example in doc.RootElement.GetProperty("rfc7520").GetProperty("examples").EnumerateArray())
        {
            var key = Key(example.GetProperty("jwk"));
            CheckSingle(example, key);
            foreach (var form in new[] { "json_general", "json_flattened" })
            {
                var message = Parse(example.GetProperty(form).GetRawText());
                VerifyAll(message, (_, _) => key);
            }
            run++;
        }
        output.WriteLine($"RFC 7520 §4 (jose.json): {run} examples, 3 serializations each");
        Assert.Equal(4, run);
    }

    [Fact]
    public void Rfc8037AndRfc7638()
    {
        using var doc = Vectors.Load("jose.json");
        var rfc8037 = doc.RootElement.GetProperty("rfc8037");
        var privateKey = Key(rfc8037.GetProperty("A.1_private_key").GetProperty("jwk"));
        var publicKey = Key(rfc8037.GetProperty("A.2_public_key").GetProperty("jwk"));
        Assert.True(privateKey.HasPrivateKey);
        Assert.False(publicKey.HasPrivateKey);
        var thumb = rfc8037.GetProperty("A.3_thumbprint");
        Assert.Equal(thumb.Str("canonical_json"), System.Text.Encoding.UTF8.GetString(Thumbprint.CanonicalJson(publicKey)));
        Assert.Equal(thumb.Str("thumbprint_b64u"), Thumbprint.Compute(publicKey));
        Assert.Equal(thumb.Str("thumbprint_b64u"), Thumbprint.Compute(privateKey));
        var signing = rfc8037.GetProperty("A.4_signing");
        CheckSingle(signing, privateKey);
        Assert.Equal(signing.Str("compact"), JwsSigner.Compact(System.Text.Encoding.UTF8.GetBytes(signing.Str("payload")), privateKey));

        var rfc7638 = doc.RootElement.GetProperty("rfc7638");
        var rsa = Key(rfc7638.GetProperty("jwk"));
        Assert.Equal(rfc7638.Str("canonical_json"), System.Text.Encoding.UTF8.GetString(Thumbprint.CanonicalJson(rsa)));
        Assert.Equal(rfc7638.Str("thumbprint_b64u"), Thumbprint.Compute(rsa));
    }

    [Fact]
    public void Ed448DerivedJwsIsReproduced()
    {
        using var doc = Vectors.Load("jose.json");
        var derived = doc.RootElement.GetProperty("ed448").GetProperty("derived_jws");
        CheckSingle(derived, Key(derived.GetProperty("jwk")));
    }

    [Fact]
    public void CookbookKeys()
    {
        string dir = Vectors.PathOf("jose-cookbook/jwk");
        var accepted = new List<string>();
        foreach (var file in Directory.GetFiles(dir, "*.json").Order())
        {
            bool ok = JwkParser.TryParse(File.ReadAllBytes(file), out var key, out var why);
            if (Path.GetFileName(file).StartsWith("3_6", StringComparison.Ordinal))
            {
                // An AES-GCM encryption key: A256GCM is not a signing algorithm.
                Assert.False(ok);
                Assert.Equal(Rejection.AlgorithmNotAllowed, why);
                continue;
            }
            Assert.True(ok, $"{file}: {why}");
            Assert.Equal("bilbo.baggins@hobbiton.example".Length > 0, key!.Kid is not null);
            accepted.Add(Path.GetFileName(file));
        }
        output.WriteLine($"cookbook JWKs accepted: {string.Join(", ", accepted)}; 3_6 (AES key) refused");
        Assert.Equal(5, accepted.Count);
    }

    [Fact]
    public void CookbookSignatures()
    {
        int forms = 0;
        var files = Directory.GetFiles(Vectors.PathOf("jose-cookbook/jws"), "*.json").Order()
            .Append(Vectors.PathOf("jose-cookbook/curve25519/jws.json"));
        foreach (var file in files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            var input = doc.RootElement.GetProperty("input");
            var keyElement = input.GetProperty("key");
            var keys = keyElement.ValueKind == JsonValueKind.Array ? keyElement.EnumerateArray().Select(Key).ToList() : [Key(keyElement)];
            var algs = input.GetProperty("alg");
            string name = Path.GetFileName(file);
            foreach (var formOutput in doc.RootElement.GetProperty("output").EnumerateObject())
            {
                string text = formOutput.Value.ValueKind == JsonValueKind.String ? formOutput.Value.GetString()! : formOutput.Value.GetRawText();
                forms++;
                if (name.StartsWith("4_7", StringComparison.Ordinal) || name.StartsWith("4_8", StringComparison.Ordinal))
                {
                    // 4.7, and 4.8's ES512 signature, carry alg only in the unprotected header:
                    // tapir requires alg to be integrity protected, so the whole message is refused.
                    Assert.Equal(Rejection.UnprotectedHeader, Refusal(text));
                    continue;
                }
                var message = Parse(text);
                if (name.StartsWith("4_5", StringComparison.Ordinal))
                {
                    Assert.True(message.Detached || message.PayloadB64.Length == 0);
                    byte[] payload = System.Text.Encoding.UTF8.GetBytes(input.Str("payload"));
                    message = message.Detached
                        ? message.WithDetachedPayload(Base64Url.Encode(payload), payload)
                        : message with { PayloadB64 = Base64Url.Encode(payload), Payload = payload };
                }
                else
                {
                    Assert.Equal(input.Str("payload"), System.Text.Encoding.UTF8.GetString(message.Payload));
                }
                VerifyAll(message, (signature, i) =>
                {
                    var key = keys.Count == 1 ? keys[0] : keys[i];
                    var alg = algs.ValueKind == JsonValueKind.Array ? algs[i].GetString() : algs.GetString();
                    Assert.Equal(alg, JwsAlgorithms.Name(signature.Alg));
                    return key;
                });
            }
        }
        output.WriteLine($"cookbook JWS: {forms} serialized forms checked (4.7 and 4.8 refused: unprotected alg)");
        Assert.True(forms >= 20);
    }

    /// <summary>A compact example: verifies, and re-signs byte for byte when deterministic.</summary>
    private static void CheckSingle(JsonElement example, Jwk key)
    {
        var message = Parse(example.Str("compact"));
        Assert.Equal(example.Str("payload_b64u"), message.PayloadB64);
        Assert.Equal(example.Str("protected_b64u"), message.Signatures[0].ProtectedB64);
        VerifyAll(message, (_, _) => key);
        var alg = message.Signatures[0].Alg;
        byte[] input = System.Text.Encoding.ASCII.GetBytes(example.Str("signing_input"));
        if (example.GetProperty("deterministic").GetBoolean())
        {
            Assert.Equal(example.Str("signature_b64u"), Base64Url.Encode(JwsCrypto.Sign(key, alg, input)));
        }
        else
        {
            // Randomised (ECDSA, PSS): a fresh signature by the same key must verify too.
            Assert.True(JwsCrypto.Verify(key.PublicKeyOrSelf(), alg, input, JwsCrypto.Sign(key, alg, input)));
        }
    }
}

internal static class JwkTestExtensions
{
    public static Jwk PublicKeyOrSelf(this Jwk key) => key.IsSymmetric ? key : key.PublicKey();
}
