// JWK rules: exact lengths, curve membership, private/public consistency, weak keys, the private
// parts never written into a public form, thumbprints stable, the public PEM export is the key as the BCL reads it.
using System.Text;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;

namespace Tapir.Security.Tests.Jose;

public sealed class JwkTests
{
    private static Rejection Refused(string json)
    {
        Assert.False(JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out _, out var why));
        return why;
    }

    public static TheoryData<JwsAlgorithm, string?> Algorithms => new()
    {
        { JwsAlgorithm.EdDSA, "Ed25519" }, { JwsAlgorithm.EdDSA, "Ed448" },
        { JwsAlgorithm.ES256, null }, { JwsAlgorithm.ES384, null }, { JwsAlgorithm.ES512, null },
        { JwsAlgorithm.PS256, null }, { JwsAlgorithm.RS512, null },
        { JwsAlgorithm.HS256, null }, { JwsAlgorithm.HS384, null }, { JwsAlgorithm.HS512, null },
    };

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void GeneratedKeysRoundTripThroughJson(JwsAlgorithm alg, string? curve)
    {
        var key = JwkGenerator.Generate(alg, curve);
        Assert.Equal(alg, key.Alg);
        Assert.NotNull(key.Kid);
        string privateJson = key.ToJson(includePrivate: true);
        Assert.True(JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(privateJson), out var again, out var why), why.ToString());
        Assert.Equal(privateJson, again.ToJson(includePrivate: true));
        if (!key.IsSymmetric)
        {
            Assert.Equal(Thumbprint.Compute(key), key.Kid);
            string publicJson = key.ToJson();
            Assert.DoesNotContain("\"d\"", publicJson);
            Assert.DoesNotContain("\"p\"", publicJson);
            Assert.True(JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(publicJson), out var pub, out _));
            Assert.False(pub.HasPrivateKey);
            Assert.Equal(Thumbprint.Compute(key), Thumbprint.Compute(pub));
            byte[] sig = JwsCrypto.Sign(key, alg, "m"u8);
            Assert.True(JwsCrypto.Verify(pub, alg, "m"u8, sig));
        }
        else
        {
            Assert.Throws<InvalidOperationException>(() => key.ToJson());
        }
        Assert.DoesNotContain(privateJson.Split('"').Where(s => s.Length > 40).FirstOrDefault() ?? "#", key.ToString());
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void PemExportIsThePublicKeyAsTheBclReadsIt(JwsAlgorithm alg, string? curve)
    {
        var key = JwkGenerator.Generate(alg, curve);
        if (key.IsSymmetric)
        {
            Assert.Throws<InvalidOperationException>(() => JwkPem.ExportPublic(key));
            return;
        }
        string pem = JwkPem.ExportPublic(key);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", pem);
        using var json = System.Text.Json.JsonDocument.Parse(key.ToJson());
        string Member(string name) => json.RootElement.GetProperty(name).GetString()!;
        switch (key.KeyType)
        {
            case "OKP":
                byte[] der = Convert.FromBase64String(string.Concat(pem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
                Assert.Equal(Member("x"), Base64Url.Encode(der[^(curve == "Ed448" ? 57 : 32)..]));
                break;
            case "EC":
                using (var ec = System.Security.Cryptography.ECDsa.Create())
                {
                    ec.ImportFromPem(pem);
                    var q = ec.ExportParameters(false).Q;
                    Assert.Equal((Member("x"), Member("y")), (Base64Url.Encode(q.X!), Base64Url.Encode(q.Y!)));
                }
                break;
            default:
                using (var rsa = System.Security.Cryptography.RSA.Create())
                {
                    rsa.ImportFromPem(pem);
                    var p = rsa.ExportParameters(false);
                    Assert.Equal((Member("n"), Member("e")), (Base64Url.Encode(p.Modulus!), Base64Url.Encode(p.Exponent!)));
                }
                break;
        }
    }

    [Theory]
    [InlineData("""{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR"}""", Rejection.Malformed)] // 31 bytes
    [InlineData("""{"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}""", Rejection.Malformed)]
    [InlineData("""{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}""", Rejection.WeakOrInvalidKey)] // d does not match x
    [InlineData("""{"kty":"EC","crv":"P-256","x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgnw"}""", Rejection.WeakOrInvalidKey)] // not on curve
    [InlineData("""{"kty":"EC","crv":"P-192","x":"AAAA","y":"AAAA"}""", Rejection.Malformed)]
    [InlineData("""{"kty":"oct","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg"}""", Rejection.WeakOrInvalidKey)] // 31 bytes
    [InlineData("""{"kty":"oct","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","alg":"HS512"}""", Rejection.KeyMismatch)] // 256-bit key for HS512
    [InlineData("""{"kty":"oct","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","use":"enc"}""", Rejection.WeakOrInvalidKey)]
    [InlineData("""{"kty":"oct","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","alg":"none"}""", Rejection.AlgorithmNotAllowed)]
    [InlineData("""{"kty":"OKP","crv":"Ed25519","alg":"ES256","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}""", Rejection.KeyMismatch)]
    [InlineData("""{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}""", Rejection.DuplicateMember)]
    [InlineData("""{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="}""", Rejection.Malformed)]
    [InlineData("""{"kty":"RSA","n":"rJBIp6T1YK-RtPyvYqFFlcucqewSAA_IReSFchE8qyiQrbARqRlXWkB2DR8j_pJQnIpYELbQWZC5Cd0PTGAU8rMbar2AW6zpmBbi7aQf17lUBdt8XI9M9rq7FPVQ1dDdUXm1SVH_9qqWhvMPR422SbfHBEzCAtzK0ANDRo6qz78","e":"AQAB"}""", Rejection.WeakOrInvalidKey)] // RSA-1024
    [InlineData("""{"kty":"dsa"}""", Rejection.Malformed)]
    [InlineData("""[]""", Rejection.Malformed)]
    public void BadKeysAreRefused(string json, Rejection expected)
    {
        Assert.Equal(expected, Refused(json));
    }

    [Fact]
    public void RsaExponentRulesHold()
    {
        var key = JwkGenerator.Generate(JwsAlgorithm.RS256);
        var pub = System.Text.Json.Nodes.JsonNode.Parse(key.ToJson())!.AsObject();
        pub["e"] = "Aw"; // e = 3
        Assert.Equal(Rejection.WeakOrInvalidKey, Refused(pub.ToJsonString()));
        pub["e"] = "AQ"; // e = 1
        Assert.Equal(Rejection.WeakOrInvalidKey, Refused(pub.ToJsonString()));
        pub["e"] = "AAEAAQ"; // leading zero byte
        Assert.Equal(Rejection.WeakOrInvalidKey, Refused(pub.ToJsonString()));
    }

    [Fact]
    public void JwkSetRefusesAmbiguity()
    {
        var a = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "same").PublicKey();
        var b = JwkGenerator.Generate(JwsAlgorithm.ES256, kid: "same").PublicKey();
        string dup = $$"""{"keys":[{{a.ToJson()}},{{b.ToJson()}}]}""";
        Assert.False(JwkSet.TryParse(System.Text.Encoding.UTF8.GetBytes(dup), out _, out var why));
        Assert.Equal(Rejection.AmbiguousKeySet, why);
        var h = JwkGenerator.Generate(JwsAlgorithm.HS256, kid: "h");
        string mixed = $$"""{"keys":[{{a.ToJson()}},{{h.ToJson(includePrivate: true)}}]}""";
        Assert.False(JwkSet.TryParse(System.Text.Encoding.UTF8.GetBytes(mixed), out _, out why));
        Assert.Equal(Rejection.AmbiguousKeySet, why);
        string ok = $$"""{"keys":[{{a.ToJson()}}]}""";
        Assert.True(JwkSet.TryParse(System.Text.Encoding.UTF8.GetBytes(ok), out var set, out _));
        Assert.Equal(ok, set.ToJson());
    }
}
