// RFC 9421 conformance: all 40 component-value examples, all 14 signature examples (bases
// byte for byte, deterministic signatures re-signed byte for byte, every signature verified
// both directly and through the full policy verifier), and the B.4 transformed messages.
using System.Text.Json;
using Tapir.Cli;
using Tapir.Security.Encoding;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;
using Xunit.Abstractions;

namespace Tapir.Security.Tests.HttpSignatures;

public sealed class Rfc9421VectorTests(ITestOutputHelper output)
{
    private static readonly JsonDocument Doc = Vectors.Load("rfc9421.json");

    internal static HttpMessage Message(string name, string scheme = "https")
    {
        string raw = Doc.RootElement.GetProperty("messages").GetProperty(name).GetProperty("raw").GetString()!;
        Assert.True(HttpMessageText.TryParse(System.Text.Encoding.Latin1.GetBytes(raw), scheme, out var message), $"message {name} did not parse");
        return message;
    }

    internal static Jwk Key(string keyId)
    {
        var entry = Doc.RootElement.GetProperty("keys").GetProperty(keyId);
        string json = entry.TryGetProperty("jwk", out var jwk)
            ? jwk.GetRawText()
            : $$"""{"kty":"oct","kid":"{{keyId}}","k":"{{Base64Url.Encode(Convert.FromBase64String(entry.GetProperty("base64").GetString()!))}}"}""";
        Assert.True(JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out var key, out var why), $"{keyId}: {why}");
        return key;
    }

    [Fact]
    public void ComponentValueExamples()
    {
        int run = 0, errors = 0;
        foreach (var example in Doc.RootElement.GetProperty("component_examples").EnumerateArray())
        {
            var input = example.GetProperty("input");
            string context = example.TryGetProperty("context", out var c) ? c.GetString()! : "";
            string raw = input.TryGetProperty("message", out var m) ? m.GetString()! : "GET / HTTP/1.1\n" + input.GetProperty("field_lines").GetString();
            Assert.True(HttpMessageText.TryParse(System.Text.Encoding.Latin1.GetBytes(raw), context.Contains("plain HTTP") ? "http" : "https", out var message), raw);
            string identifier = example.GetProperty("component_identifier").GetString()!;
            bool ok = ComponentIdentifier.TryParse(identifier, out var component, out _) & ComponentValues.TryGet(message, component ?? ComponentIdentifier.Field("x"), out string value);
            run++;
            if (example.TryGetProperty("expect_error", out var e) && e.GetBoolean())
            {
                Assert.False(ok, $"{identifier} should have no value");
                errors++;
                continue;
            }
            Assert.True(ok, $"{identifier}: no value");
            Assert.Equal(example.GetProperty("value").GetString(), value);
            Assert.Equal(example.GetProperty("base_line").GetString(), $"{component!.Serialized}: {value}");
        }
        output.WriteLine($"component examples: {run} run, {errors} of them expected errors");
        Assert.Equal(40, run);
    }

    [Fact]
    public void SignatureExamples()
    {
        int run = 0, resigned = 0;
        foreach (var example in Doc.RootElement.GetProperty("signature_examples").EnumerateArray())
        {
            string id = example.GetProperty("id").GetString()!;
            string label = example.GetProperty("label").GetString()!;
            var message = Message(example.GetProperty("message").GetString()!);
            if (example.TryGetProperty("related_request", out var related) && related.ValueKind == JsonValueKind.String)
            {
                message = new HttpMessage { Status = message.Status, Fields = message.Fields, Body = message.Body, Request = Message(related.GetString()!) };
            }
            Assert.True(SfParser.TryParseDictionary(example.GetProperty("signature_input_member").GetString()!, out var dictionary));
            Assert.True(SignatureParameters.TryFrom(dictionary[0].Value, out var parameters, out var why), $"{id}: {why}");
            Assert.Equal(example.GetProperty("signature_params").GetString(), parameters.Serialized);
            Assert.True(SignatureBase.TryBuild(message, parameters, out var signatureBase, out _, out var missing), $"{id}: no value for {missing?.Serialized}");
            Assert.Equal(example.GetProperty("signature_base").GetString(), System.Text.Encoding.Latin1.GetString(signatureBase));

            Assert.True(HttpSignatureAlgorithm.TryMap(example.GetProperty("alg").GetString()!, out var alg));
            // The verifier binds each key to its algorithm out of band (RFC 9421 §3.3.7): the JWK's alg.
            var key = Key(example.GetProperty("keyid").GetString()!).WithAlg(alg);
            byte[] signature = Convert.FromBase64String(example.GetProperty("signature_b64").GetString()!);
            Assert.True(JwsCrypto.Verify(key, alg, signatureBase, signature), $"{id}: signature does not verify");
            if (example.GetProperty("deterministic").GetBoolean())
            {
                Assert.Equal(signature, JwsCrypto.Sign(key, alg, signatureBase));
                resigned++;
            }

            // The full verifier, on the message as sent (adding the fields where the RFC shows them apart).
            var signed = message.Values("signature-input").Any(v => v.Contains(label + "=", StringComparison.Ordinal))
                ? message
                : message.WithFields([new("Signature-Input", example.GetProperty("signature_input_member").GetString()!), new("Signature", example.GetProperty("signature_member").GetString()!)]);
            Assert.True(VerifyFully(signed, label, key, parameters.Created!.Value, out why), $"{id}: full verifier refused: {why}");
            run++;
        }
        output.WriteLine($"signature examples: {run} bases reproduced and verified, {resigned} re-signed byte for byte");
        Assert.Equal(14, run);
    }

    [Fact]
    public void B4TransformedMessages()
    {
        var example = Doc.RootElement.GetProperty("signature_examples").EnumerateArray().Single(e => e.GetProperty("id").GetString() == "B.4");
        var key = Key("test-key-ed25519");
        long created = example.GetProperty("created").GetInt64();
        int run = 0;
        foreach (var variant in example.GetProperty("transformations").EnumerateArray())
        {
            var message = Message(variant.GetProperty("message").GetString()!);
            bool ok = VerifyFully(message, "transform", key, created, out var why);
            Assert.True(ok == variant.GetProperty("signature_expected_valid").GetBoolean(), $"{variant.GetProperty("message")}: got {(ok ? "valid" : why.ToString())}");
            if (!ok)
            {
                Assert.Equal(Rejection.BadSignature, why);
            }
            run++;
        }
        output.WriteLine($"B.4: {run} transformed messages judged as the RFC says");
        Assert.Equal(5, run);
    }

    private static bool VerifyFully(HttpMessage message, string label, Jwk key, long created, out Rejection why)
    {
        var policy = new HttpSignaturePolicy
        {
            Algorithms = HttpSignatureAlgorithm.All.ToHashSet(),
            KeyAlgorithms = JwsAlgorithms.All.ToHashSet(),
            RequiredParameters = new HashSet<string>(),
            Labels = new HashSet<string> { label },
            MaxSignatures = 4,
            MaxAge = TimeSpan.FromMinutes(5),
        };
        var now = DateTimeOffset.FromUnixTimeSeconds(created + 30);
        return HttpVerifier.TryVerify(message, policy, k => k == key.Kid || key.Kid is null ? key : null, now, out _, out why);
    }
}
