// A submission built by an independent client (DESIGN §5.2): npm http-message-sig signs the exact
// edm layout, sig1=("content-type" "content-length" "content-digest");created;alg;keyid (Ed448:
// no alg), and curl sends it over mTLS with the node's certificate; the core stores it and
// `core aggregates verify` re-verifies it.
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Tapir.Tests.Aggregates;

public sealed class AggregateInteropTests(AggregateCore fixture) : IClassFixture<AggregateCore>
{
    private static readonly string Peer = Path.Combine(Repo.Root, "tests", "interop", "httpsig-peer.mjs");

    [Theory]
    [InlineData("edge1.example.net", "ed25519")]
    [InlineData("edge2.example.net", "jws:Ed448")]
    public void HttpMessageSigAndCurlSubmission(string node, string alg)
    {
        var body = new byte[5000];
        new Random(alg.Length).NextBytes(body);
        string file = fixture.Core.File($"{node}.parquet");
        File.WriteAllBytes(file, body);
        string digest = $"sha-256=:{Convert.ToBase64String(SHA256.HashData(body))}:";
        string url = $"https://127.0.0.1:{fixture.Core.Port}/api/v1/aggregate/histogram";
        var fields = new[] { ("content-type", "application/vnd.apache.parquet"), ("content-length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("content-digest", digest) };
        var parameters = new JsonObject { ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() };
        if (!alg.StartsWith("jws:", StringComparison.Ordinal))
        {
            parameters["alg"] = alg;
        }
        parameters["keyid"] = node;
        var task = new JsonObject
        {
            ["op"] = "sign", ["alg"] = alg, ["label"] = "sig1", ["params"] = parameters,
            ["request"] = new JsonObject { ["method"] = "POST", ["targetUri"] = url, ["fields"] = new JsonArray(fields.Select(f => (JsonNode)new JsonArray(f.Item1, f.Item2)).ToArray()) },
            ["jwk"] = JsonNode.Parse(fixture.Key(node).ToJson(includePrivate: true)),
            ["components"] = new JsonArray("content-type", "content-length", "content-digest"),
        };
        var peer = Run.Process("node", [Peer], stdin: new JsonArray(task).ToJsonString());
        Assert.True(peer.ExitCode == 0, peer.Stderr);
        var signed = JsonNode.Parse(peer.Stdout)!.AsArray()[0]!;
        string signatureInput = signed["signatureInput"]!.GetValue<string>();
        Assert.Matches($"^sig1=\\(\"content-type\" \"content-length\" \"content-digest\"\\);created=[0-9]+{(alg == "ed25519" ? ";alg=\"ed25519\"" : "")};keyid=\"{node.Replace(".", "\\.", StringComparison.Ordinal)}\"$", signatureInput);

        string edge = fixture.EdgeDir(node);
        string headers = fixture.Core.File($"{node}.headers");
        var curl = Run.Process("curl", ["-sS", "-o", "/dev/null", "-D", headers, "-w", "%{http_code}", "--cacert", Path.Combine(edge, "ca.crt"),
            "--cert", Path.Combine(edge, "tls.crt"), "--key", Path.Combine(edge, "tls.key"),
            "-H", "Content-Type: application/vnd.apache.parquet", "-H", $"Content-Digest: {digest}",
            "-H", $"Signature-Input: {signatureInput}", "-H", $"Signature: {signed["signature"]!.GetValue<string>()}",
            "--data-binary", $"@{file}", url]);
        Assert.True(curl.Stdout == "201", curl.Stdout + curl.Stderr + fixture.Core.LogText);
        string location = File.ReadAllLines(headers).Single(l => l.StartsWith("location:", StringComparison.OrdinalIgnoreCase))[9..].Trim();
        string id = location.Split('/')[^1];
        var verify = fixture.Core.Tapir("core", "aggregates", "verify", id);
        Assert.Equal((0, $"{id}: ok (histogram from {node})\n"), (verify.ExitCode, verify.Stdout));
        Assert.Equal(signatureInput, fixture.Rows().Single(r => r.Id == id).SignatureInput);
    }
}
