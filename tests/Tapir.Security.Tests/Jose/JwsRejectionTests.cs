// DESIGN §8.1 and the refusal list, one test per rule, each asserting the exact Rejection:
// alg none/missing/unknown/not allowed, HMAC with a public key, alg not matching the key, unknown
// kid, crit and b64, duplicate members, protected+unprotected clashes, unprotected alg,
// non-canonical base64url, trailing data, oversize input, serialization not allowed.
using System.Text;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;

namespace Tapir.Security.Tests.Jose;

public sealed class JwsRejectionTests
{
    private static readonly Jwk Ed = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "edge1.example.net");
    private static readonly Jwk Ec = JwkGenerator.Generate(JwsAlgorithm.ES256, kid: "ec");
    private static readonly byte[] Payload = "{\"hello\":\"world\"}"u8.ToArray();

    private static JwsPolicy Policy(params Jwk[] keys) =>
        new(JwsAlgorithms.Asymmetric, new JwkSet(keys.Select(k => k.IsSymmetric ? k : k.PublicKey())));

    private static Rejection Verify(string jws, JwsPolicy? policy = null)
    {
        bool ok = JwsVerifier.TryVerify(System.Text.Encoding.UTF8.GetBytes(jws), policy ?? Policy(Ed), out _, out var why);
        Assert.False(ok);
        return why;
    }

    /// <summary>A compact JWS with a hand-made protected header, signed by the given key and alg.</summary>
    private static string Forge(string header, Jwk key, JwsAlgorithm alg)
    {
        string h = Base64Url.Encode(System.Text.Encoding.UTF8.GetBytes(header));
        string p = Base64Url.Encode(Payload);
        string s = Base64Url.Encode(JwsCrypto.Sign(key, alg, System.Text.Encoding.ASCII.GetBytes($"{h}.{p}")));
        return $"{h}.{p}.{s}";
    }

    [Fact]
    public void ValidMessagesVerifyInAllSerializations()
    {
        foreach (var jws in new[] { JwsSigner.Compact(Payload, Ed), JwsSigner.Flattened(Payload, Ed), JwsSigner.General(Payload, [Ed]) })
        {
            Assert.True(JwsVerifier.TryVerify(System.Text.Encoding.UTF8.GetBytes(jws), Policy(Ed), out var verified, out var why), why.ToString());
            Assert.Equal(Payload, verified.Payload);
            Assert.Equal("edge1.example.net", verified.Keys[0].Kid);
        }
    }

    [Fact]
    public void AlgNoneIsRefused()
    {
        string h = Base64Url.Encode("{\"alg\":\"none\",\"kid\":\"edge1.example.net\"}"u8);
        Assert.Equal(Rejection.AlgorithmNotAllowed, Verify($"{h}.{Base64Url.Encode(Payload)}."));
        Assert.Equal(Rejection.AlgorithmNotAllowed, Verify($"{h}.{Base64Url.Encode(Payload)}.AAAA"));
    }

    [Theory]
    [InlineData("{\"kid\":\"edge1.example.net\"}")]
    [InlineData("{\"alg\":\"eddsa\",\"kid\":\"edge1.example.net\"}")]
    [InlineData("{\"alg\":\"ES256K\",\"kid\":\"edge1.example.net\"}")]
    [InlineData("{\"alg\":null,\"kid\":\"edge1.example.net\"}")]
    public void MissingOrUnknownAlgIsRefused(string header)
    {
        string h = Base64Url.Encode(System.Text.Encoding.UTF8.GetBytes(header));
        var why = Verify($"{h}.{Base64Url.Encode(Payload)}.AAAA");
        Assert.True(why is Rejection.AlgorithmNotAllowed or Rejection.Malformed, why.ToString());
    }

    [Fact]
    public void HmacWithAPublicKeyIsRefused()
    {
        // The classic confusion: HS256 keyed with the bytes of the verifier's public key.
        var confused = new JwkParserShim(Ec).AsHmacKey();
        string jws = Forge("{\"alg\":\"HS256\",\"kid\":\"ec\"}", confused, JwsAlgorithm.HS256);
        Assert.Equal(Rejection.AlgorithmNotAllowed, Verify(jws, Policy(Ec)));
        var permissive = Policy(Ec) with { Algorithms = JwsAlgorithms.All.ToHashSet() };
        Assert.Equal(Rejection.KeyMismatch, Verify(jws, permissive));
    }

    [Fact]
    public void AlgNotMatchingTheKeyIsRefused()
    {
        // EdDSA header naming an EC key, and ES384 on a P-256 key.
        Assert.Equal(Rejection.KeyMismatch, Verify(Forge("{\"alg\":\"EdDSA\",\"kid\":\"ec\"}", Ed, JwsAlgorithm.EdDSA), Policy(Ec)));
        var p384 = JwkGenerator.Generate(JwsAlgorithm.ES384, kid: "ec");
        Assert.Equal(Rejection.KeyMismatch, Verify(Forge("{\"alg\":\"ES384\",\"kid\":\"ec\"}", p384, JwsAlgorithm.ES384), Policy(Ec)));
    }

    [Fact]
    public void AlgOutsideThePolicyIsRefused()
    {
        var policy = Policy(Ed) with { Algorithms = new HashSet<JwsAlgorithm> { JwsAlgorithm.ES256 } };
        Assert.Equal(Rejection.AlgorithmNotAllowed, Verify(JwsSigner.Compact(Payload, Ed), policy));
    }

    [Fact]
    public void UnknownKidIsRefused()
    {
        var other = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "edge2.example.net");
        Assert.Equal(Rejection.KeyNotFound, Verify(JwsSigner.Compact(Payload, other)));
        Assert.Equal(Rejection.KeyNotFound, Verify(Forge("{\"alg\":\"EdDSA\"}", Ed, JwsAlgorithm.EdDSA)));
    }

    [Fact]
    public void SignatureByAnotherKeyUnderTheRightKidIsRefused()
    {
        var impostor = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "edge1.example.net");
        Assert.Equal(Rejection.BadSignature, Verify(JwsSigner.Compact(Payload, impostor)));
    }

    [Theory]
    [InlineData("{\"alg\":\"EdDSA\",\"kid\":\"edge1.example.net\",\"crit\":[\"exp\"],\"exp\":1}")]
    [InlineData("{\"alg\":\"EdDSA\",\"kid\":\"edge1.example.net\",\"crit\":[]}")]
    [InlineData("{\"alg\":\"EdDSA\",\"kid\":\"edge1.example.net\",\"b64\":false,\"crit\":[\"b64\"]}")]
    [InlineData("{\"alg\":\"EdDSA\",\"kid\":\"edge1.example.net\",\"b64\":true}")]
    public void CritAndB64AreRefused(string header)
    {
        Assert.Equal(Rejection.CriticalHeader, Verify(Forge(header, Ed, JwsAlgorithm.EdDSA)));
    }

    [Theory]
    [InlineData("{\"alg\":\"EdDSA\",\"alg\":\"EdDSA\",\"kid\":\"edge1.example.net\"}")]
    [InlineData("{\"alg\":\"EdDSA\",\"kid\":\"edge1.example.net\",\"kid\":\"edge2.example.net\"}")]
    [InlineData("{\"alg\":\"EdDSA\",\"kid\":\"edge1.example.net\",\"x\":{\"a\":1,\"a\":2}}")]
    public void DuplicateHeaderMembersAreRefused(string header)
    {
        Assert.Equal(Rejection.DuplicateMember, Verify(Forge(header, Ed, JwsAlgorithm.EdDSA)));
    }

    [Fact]
    public void DuplicateSerializationMembersAreRefused()
    {
        string flat = JwsSigner.Flattened(Payload, Ed);
        string dup = flat.Insert(1, "\"payload\":\"e30\",");
        Assert.Equal(Rejection.DuplicateMember, Verify(dup));
    }

    [Theory]
    [InlineData("{\"kid\":\"edge1.example.net\"}", Rejection.HeaderConflict)]
    [InlineData("{\"alg\":\"EdDSA\"}", Rejection.HeaderConflict)]
    [InlineData("{\"crit\":[\"x\"]}", Rejection.CriticalHeader)]
    public void UnprotectedHeaderClashesAreRefused(string unprotected, Rejection expected)
    {
        string flat = JwsSigner.Flattened(Payload, Ed);
        string withHeader = flat.Insert(1, $"\"header\":{unprotected},");
        Assert.Equal(expected, Verify(withHeader));
    }

    [Fact]
    public void AlgOnlyInTheUnprotectedHeaderIsRefused()
    {
        string flat = JwsSigner.Flattened(Payload, Ed);
        using var doc = System.Text.Json.JsonDocument.Parse(flat);
        string unprotectedOnly = $$"""{"payload":"{{doc.RootElement.GetProperty("payload").GetString()}}","header":{"alg":"EdDSA","kid":"edge1.example.net"},"signature":"{{doc.RootElement.GetProperty("signature").GetString()}}"}""";
        Assert.Equal(Rejection.UnprotectedHeader, Verify(unprotectedOnly));
    }

    [Fact]
    public void NonCanonicalBase64UrlIsRefused()
    {
        string jws = JwsSigner.Compact(Payload, Ed);
        var parts = jws.Split('.');
        Assert.Equal(Rejection.Malformed, Verify($"{parts[0]}=.{parts[1]}.{parts[2]}"));
        Assert.Equal(Rejection.Malformed, Verify($"{parts[0]}.{parts[1]}.{parts[2]}=="));
        Assert.Equal(Rejection.Malformed, Verify($"{parts[0]}.+{parts[1][1..]}.{parts[2]}"));
        Assert.Equal(Rejection.Malformed, Verify($" {jws}"));
        // "e30" is {} ; "e31" decodes to the same bytes with a non-zero unused bit.
        Assert.True(Base64Url.TryDecode("e30", out _));
        Assert.False(Base64Url.TryDecode("e31", out _));
    }

    [Fact]
    public void TrailingDataIsRefused()
    {
        string jws = JwsSigner.Compact(Payload, Ed);
        Assert.Equal(Rejection.Malformed, Verify(jws + "."));
        Assert.Equal(Rejection.Malformed, Verify(jws + "\n"));
        Assert.Equal(Rejection.Malformed, Verify(JwsSigner.Flattened(Payload, Ed) + "{}"));
        Assert.Equal(Rejection.Malformed, Verify(JwsSigner.Flattened(Payload, Ed).Insert(1, "\"extra\":1,")));
    }

    [Fact]
    public void OversizeInputIsRefused()
    {
        string jws = JwsSigner.Compact(new byte[2048], Ed);
        Assert.Equal(Rejection.TooLarge, Verify(jws, Policy(Ed) with { MaxBytes = 1024 }));
    }

    [Fact]
    public void SerializationOutsideThePolicyIsRefused()
    {
        var compactOnly = Policy(Ed) with { Serializations = JwsSerialization.Compact };
        Assert.Equal(Rejection.SerializationNotAllowed, Verify(JwsSigner.Flattened(Payload, Ed), compactOnly));
        Assert.Equal(Rejection.SerializationNotAllowed, Verify(JwsSigner.General(Payload, [Ed]), compactOnly));
    }

    [Fact]
    public void EveryGeneralSignatureMustVerify()
    {
        var other = JwkGenerator.Generate(JwsAlgorithm.ES256, kid: "other");
        string general = JwsSigner.General(Payload, [Ed, other]);
        // Only Ed is trusted: the second signature names an unknown kid, so the whole message fails.
        Assert.Equal(Rejection.KeyNotFound, Verify(general));
        Assert.True(JwsVerifier.TryVerify(System.Text.Encoding.UTF8.GetBytes(general), Policy(Ed, other), out var v, out _));
        Assert.Equal(2, v.Keys.Count);
    }
}

/// <summary>Builds the "symmetric key from public key bytes" of the HMAC confusion attack.</summary>
internal sealed class JwkParserShim(Jwk publicKey)
{
    public Jwk AsHmacKey()
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(publicKey.ToJson());
        string json = $$"""{"kty":"oct","kid":"{{publicKey.Kid}}","k":"{{Base64Url.Encode(bytes)}}"}""";
        Assert.True(JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out var key, out _));
        return key;
    }
}
