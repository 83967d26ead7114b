// RFC 9421 interop with npm http-message-sig (Cloudflare) run as a real process: for every
// algorithm both share, and for the real edm profile, the peer signs and tapir verifies, and
// tapir signs and the peer verifies. Ed448 signs with no alg parameter (RFC 9421 §3.3.7).
using System.Text.Json.Nodes;
using Tapir.Security;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;
using Xunit.Abstractions;

namespace Tapir.Tests.Interop;

public sealed class HttpSigInteropTests(ITestOutputHelper output)
{
    private const string Node = "node";
    private static readonly string Peer = Path.Combine(Repo.Root, "tests", "interop", "httpsig-peer.mjs");
    private static readonly string[] Edm = ["content-type", "content-length", "content-digest"];
    private static readonly string[] Wide = ["@method", "@authority", "@path", "@query", "@target-uri", "content-type", "content-length", "content-digest"];

    [Fact]
    public void BothDirectionsForEverySharedAlgorithm()
    {
        var rsa = JwkGenerator.Generate(JwsAlgorithm.PS512, kid: "edge1.example.net");
        var cases = new List<(string Alg, Jwk Key, string[] Components)>
        {
            ("ed25519", JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed25519", "edge1.example.net"), Edm),
            ("ed25519", JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed25519", "edge1.example.net"), Wide),
            ("ecdsa-p256-sha256", JwkGenerator.Generate(JwsAlgorithm.ES256, kid: "edge1.example.net"), Edm),
            ("ecdsa-p384-sha384", JwkGenerator.Generate(JwsAlgorithm.ES384, kid: "edge1.example.net"), Wide),
            ("rsa-pss-sha512", rsa, Edm),
            ("rsa-v1_5-sha256", Reparse(rsa, "RS256"), Wide),
            ("hmac-sha256", JwkGenerator.Generate(JwsAlgorithm.HS256, kid: "edge1.example.net"), Edm),
            ("jws:Ed448", JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed448", "edge1.example.net"), Edm),
        };
        byte[] body = "PAR1\u0000aggregate\u0000PAR1"u8.ToArray();
        var request = new HttpMessage
        {
            Method = "POST",
            Target = "/api/v1/aggregate/histogram?x=1",
            Body = body,
            Fields =
            [
                new("Host", "core.example.net:8443"),
                new("Content-Type", "application/vnd.apache.parquet"),
                new("Content-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("Content-Digest", ContentDigest.FieldValueOf(body, "sha-512")),
            ],
        };
        var now = DateTimeOffset.UtcNow;
        long created = now.ToUnixTimeSeconds() - 5;

        // The peer signs.
        var tasks = new JsonArray();
        foreach (var (alg, key, components) in cases)
        {
            var parameters = new JsonObject { ["created"] = created, ["keyid"] = "edge1.example.net" };
            if (!alg.StartsWith("jws:", StringComparison.Ordinal))
            {
                parameters["alg"] = alg;
            }
            tasks.Add(new JsonObject
            {
                ["op"] = "sign", ["request"] = Describe(request), ["jwk"] = Private(key), ["alg"] = alg, ["label"] = "sig1",
                ["components"] = new JsonArray(components.Select(c => (JsonNode)c).ToArray()), ["params"] = parameters,
            });
        }
        var signed = Call(tasks);
        var lines = new List<string>();
        var failures = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            var (alg, key, components) = cases[i];
            string verdict;
            if (signed[i]!["error"] is JsonNode error)
            {
                verdict = $"peer error: {error}";
            }
            else
            {
                var message = request.WithFields([new("Signature-Input", signed[i]!["signatureInput"]!.GetValue<string>()), new("Signature", signed[i]!["signature"]!.GetValue<string>())]);
                verdict = HttpVerifier.TryVerify(message, Policy(components), k => k == "edge1.example.net" ? Public(key) : null, now, out _, out var why) ? "ok" : $"tapir refused: {why}";
            }
            lines.Add($"http-message-sig signs, tapir verifies: {alg,-18} {(components == Edm ? "edm profile" : "derived+fields"),-15} {verdict}");
            if (verdict != "ok") { failures.Add(lines[^1]); }
        }

        // Tapir signs.
        tasks = new JsonArray();
        foreach (var (alg, key, components) in cases)
        {
            var signature = HttpSigner.Sign(request, key, "edge1.example.net", now, components, includeAlg: !alg.StartsWith("jws:", StringComparison.Ordinal));
            var message = request.WithFields([new("Signature-Input", signature.SignatureInput), new("Signature", signature.Signature)]);
            tasks.Add(new JsonObject
            {
                ["op"] = "verify", ["request"] = Describe(message), ["jwk"] = key.IsSymmetric ? Private(key) : JsonNode.Parse(key.PublicKey().ToJson()),
                ["alg"] = alg, ["label"] = "sig1", ["components"] = new JsonArray(components.Select(c => (JsonNode)c).ToArray()), ["now"] = now.ToUnixTimeSeconds(),
            });
        }
        var verified = Call(tasks);
        for (int i = 0; i < cases.Count; i++)
        {
            var (alg, _, components) = cases[i];
            string verdict = verified[i]!["keyid"]?.GetValue<string>() == "edge1.example.net" ? "ok" : $"peer refused: {verified[i]!["error"]}";
            lines.Add($"tapir signs, http-message-sig verifies: {alg,-18} {(components == Edm ? "edm profile" : "derived+fields"),-15} {verdict}");
            if (verdict != "ok") { failures.Add(lines[^1]); }
        }
        foreach (var line in lines)
        {
            output.WriteLine(line);
        }
        Assert.Equal(2 * cases.Count, lines.Count);
        Assert.Empty(failures);
    }

    private static HttpSignaturePolicy Policy(string[] components) => new()
    {
        Algorithms = HttpSignatureAlgorithm.All.ToHashSet(),
        KeyAlgorithms = JwsAlgorithms.All.ToHashSet(),
        RequiredComponents = components.Select(c => $"\"{c}\"").ToList(),
        MaxAge = TimeSpan.FromMinutes(5),
    };

    private static Jwk Public(Jwk key) => key.IsSymmetric ? key : key.PublicKey();

    private static JsonNode Private(Jwk key) => JsonNode.Parse(key.ToJson(includePrivate: true))!;

    private static Jwk Reparse(Jwk rsa, string alg)
    {
        var node = JsonNode.Parse(rsa.ToJson(includePrivate: true))!.AsObject();
        node["alg"] = alg;
        Assert.True(JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(node.ToJsonString()), out var key, out _));
        return key;
    }

    private static JsonObject Describe(HttpMessage message) => new()
    {
        ["method"] = message.Method,
        ["targetUri"] = $"https://{message.Values("host")[0]}{message.Target}",
        ["fields"] = new JsonArray(message.Fields.Select(f => (JsonNode)new JsonArray(f.Key.ToLowerInvariant(), f.Value)).ToArray()),
    };

    private static JsonArray Call(JsonArray tasks)
    {
        var result = Run.Process(Node, [Peer], stdin: tasks.ToJsonString());
        Assert.True(result.ExitCode == 0, $"peer failed ({result.ExitCode}): {result.Stderr}");
        var parsed = JsonNode.Parse(result.Stdout)!.AsArray();
        Assert.Equal(tasks.Count, parsed.Count);
        return parsed;
    }
}
