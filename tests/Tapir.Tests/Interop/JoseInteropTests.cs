// JOSE interop with independent implementations run as real processes: npm `jose` 5.x and Debian's
// python3-jwcrypto. For every algorithm, in both directions and all three serializations, one
// side signs and the other verifies; a general JWS with two signatures (HS256 enrollment secret +
// EdDSA data key, as in DESIGN §4.2) goes both ways too. The matrix is printed.
using System.Text.Json;
using System.Text.Json.Nodes;
using Tapir.Security;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;
using Xunit.Abstractions;

namespace Tapir.Tests.Interop;

public sealed class JoseInteropTests(ITestOutputHelper output)
{
    private static readonly string[] Serializations = ["compact", "flattened", "general"];

    private static readonly Lazy<IReadOnlyList<(string Name, Jwk Key)>> Keys = new(() =>
    {
        var rsa = JwkGenerator.Generate(JwsAlgorithm.PS256);
        var keys = new List<(string, Jwk)>
        {
            ("EdDSA/Ed25519", JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed25519")),
            ("EdDSA/Ed448", JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed448")),
            ("ES256", JwkGenerator.Generate(JwsAlgorithm.ES256)),
            ("ES384", JwkGenerator.Generate(JwsAlgorithm.ES384)),
            ("ES512", JwkGenerator.Generate(JwsAlgorithm.ES512)),
            ("HS256", JwkGenerator.Generate(JwsAlgorithm.HS256)),
            ("HS384", JwkGenerator.Generate(JwsAlgorithm.HS384)),
            ("HS512", JwkGenerator.Generate(JwsAlgorithm.HS512)),
        };
        foreach (var alg in new[] { JwsAlgorithm.PS256, JwsAlgorithm.PS384, JwsAlgorithm.PS512, JwsAlgorithm.RS256, JwsAlgorithm.RS384, JwsAlgorithm.RS512 })
        {
            // One RSA key pair under six algorithms, each copy with its own alg and kid.
            keys.Add((alg.ToString(), WithAlg(rsa, alg)));
        }
        return keys;
    });

    private static Jwk WithAlg(Jwk rsa, JwsAlgorithm alg)
    {
        string json = rsa.ToJson(includePrivate: true);
        var node = JsonNode.Parse(json)!.AsObject();
        node["alg"] = alg.ToString();
        node["kid"] = $"rsa-{alg}";
        Assert.True(JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(node.ToJsonString()), out var key, out _));
        return key;
    }

    [Fact]
    public void NpmJose() => RunMatrix("npm jose 5", "node", [Path.Combine(Repo.Root, "tests", "interop", "jose-peer.mjs")]);

    [Fact]
    public void PythonJwcrypto() => RunMatrix("python3-jwcrypto", "/usr/bin/python3", [Path.Combine(Repo.Root, "tests", "interop", "jwcrypto-peer.py")]);

    private void RunMatrix(string peer, string program, string[] args)
    {
        var keys = Keys.Value;
        byte[] payload = System.Text.Encoding.UTF8.GetBytes("{\"type\":\"new_qname\",\"qname\":\"www.example.net.\",\"note\":\"’ü\"}");
        var edKey = keys[0].Key;
        var hmacKey = JwkGenerator.Generate(JwsAlgorithm.HS256, kid: "edge1.example.net-secret");

        // Peer signs; tapir verifies.
        var tasks = new JsonArray();
        var cases = new List<(string Name, string Serialization, Jwk[] Keys)>();
        foreach (var (name, key) in keys)
        {
            foreach (var serialization in Serializations)
            {
                tasks.Add(SignTask(key, payload, serialization));
                cases.Add((name, serialization, [key]));
            }
        }
        var pair = SignTask(hmacKey, payload, "general");
        pair["extra_jwk"] = JsonNode.Parse(edKey.ToJson(includePrivate: true));
        tasks.Add(pair);
        cases.Add(("HS256+EdDSA", "general", [hmacKey, edKey]));

        var signed = Call(program, args, tasks);
        var lines = new List<string>();
        var failures = new List<string>();
        for (int i = 0; i < cases.Count; i++)
        {
            var (name, serialization, caseKeys) = cases[i];
            string? jws = signed[i]!["jws"]?.GetValue<string>();
            string verdict = jws is null ? $"peer error: {signed[i]!["error"]}" : TapirVerifies(jws, caseKeys, payload);
            lines.Add($"{peer} signs, tapir verifies: {name,-14} {serialization,-9} {verdict}");
            if (verdict != "ok") { failures.Add(lines[^1]); }
        }

        // Tapir signs; peer verifies.
        tasks = new JsonArray();
        foreach (var (name, serialization, caseKeys) in cases)
        {
            string jws = serialization switch
            {
                "compact" => JwsSigner.Compact(payload, caseKeys[0]),
                "flattened" => JwsSigner.Flattened(payload, caseKeys[0]),
                _ => JwsSigner.General(payload, caseKeys),
            };
            var jwks = new JsonArray(caseKeys.Select(k => JsonNode.Parse(k.IsSymmetric ? k.ToJson(includePrivate: true) : k.ToJson())).ToArray());
            tasks.Add(new JsonObject { ["op"] = "verify", ["jws"] = jws, ["jwks"] = new JsonObject { ["keys"] = jwks } });
        }
        var verified = Call(program, args, tasks);
        for (int i = 0; i < cases.Count; i++)
        {
            var (name, serialization, _) = cases[i];
            string? got = verified[i]!["payload_b64u"]?.GetValue<string>();
            string verdict = got == Base64Url.Encode(payload) ? "ok" : $"peer refused: {verified[i]!["error"]}";
            lines.Add($"tapir signs, {peer} verifies: {name,-14} {serialization,-9} {verdict}");
            if (verdict != "ok") { failures.Add(lines[^1]); }
        }
        foreach (var line in lines)
        {
            output.WriteLine(line);
        }
        Assert.Equal(2 * (keys.Count * 3 + 1), lines.Count);
        Assert.Empty(failures);
    }

    private static JsonObject SignTask(Jwk key, byte[] payload, string serialization) => new()
    {
        ["op"] = "sign",
        ["jwk"] = JsonNode.Parse(key.ToJson(includePrivate: true)),
        ["payload_b64u"] = Base64Url.Encode(payload),
        ["serialization"] = serialization,
    };

    private static string TapirVerifies(string jws, Jwk[] keys, byte[] payload)
    {
        if (!JwsParser.TryParse(System.Text.Encoding.UTF8.GetBytes(jws), JwsParser.DefaultMaxBytes, out var message, out var why))
        {
            return $"tapir refused: {why}";
        }
        if (message.Signatures.Count != keys.Length)
        {
            return $"expected {keys.Length} signatures, got {message.Signatures.Count}";
        }
        var all = JwsAlgorithms.All.ToHashSet();
        for (int i = 0; i < keys.Length; i++)
        {
            var key = keys[i].IsSymmetric ? keys[i] : keys[i].PublicKey();
            var signature = message.Signatures.Single(s => s.Kid == key.Kid);
            if (!JwsVerifier.TryVerifySignature(message, signature, key, all, out why))
            {
                return $"tapir refused: {why}";
            }
        }
        return message.Payload.AsSpan().SequenceEqual(payload) ? "ok" : "payload differs";
    }

    private static JsonArray Call(string program, string[] args, JsonArray tasks)
    {
        var result = Run.Process(program, args, stdin: tasks.ToJsonString());
        Assert.True(result.ExitCode == 0, $"{program} failed ({result.ExitCode}): {result.Stderr}");
        var parsed = JsonNode.Parse(result.Stdout)!.AsArray();
        Assert.Equal(tasks.Count, parsed.Count);
        return parsed;
    }
}
