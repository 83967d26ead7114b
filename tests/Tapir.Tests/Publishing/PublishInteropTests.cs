// The core's signed messages checked by independent JOSE implementations run as real processes
// (npm `jose` 5 and Debian's python3-jwcrypto, tests/interop): a rotation's JWKS message verifies
// with the OLD key alone and its payload is the new JWKS; a node configuration verifies with the
// key the trusted JWKS names. A JWKS message checked against the new key alone is refused.
using System.Text.Json.Nodes;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;
using Tapir.Tests.Core;
using static Tapir.Tests.Publishing.CoreMessages;

namespace Tapir.Tests.Publishing;

public sealed class PublishInteropTests
{
    [Theory]
    [InlineData("node", "jose-peer.mjs")]
    [InlineData("/usr/bin/python3", "jwcrypto-peer.py")]
    public void PeersVerifyTheJwksMessageAndAConfiguration(string program, string script)
    {
        using var core = new CoreProcess();
        var old = PublicKey(core.StateDir, "core-data.jwk");
        Assert.Equal(3, core.Tapir("core", "key", "rotate", "--alg", "ES384", "--wait", "0s").ExitCode);
        var fresh = CurrentPublicKey(core.StateDir);
        core.AddNode("edge1.example.net");
        byte[] configuration = "{\"pop\":{\"feeds\":[\"dnstapir-observations\"]}}"u8.ToArray();
        File.WriteAllBytes(core.File("config.json"), configuration);
        Assert.Equal(3, core.Tapir("core", "node", "configure", "edge1.example.net", core.File("config.json"), "--wait", "0s").ExitCode);
        var rows = Outbox(core.StateDir);
        string jwksMessage = System.Text.Encoding.UTF8.GetString(rows[0].Message);
        string configurationMessage = System.Text.Encoding.UTF8.GetString(rows[1].Message);

        var results = Call(program, script, new JsonArray(
            VerifyTask(jwksMessage, old),
            VerifyTask(configurationMessage, old, fresh),
            VerifyTask(jwksMessage, fresh)));
        Assert.True(results[0]!["payload_b64u"] is not null, $"{script} refused the JWKS message: {results[0]}");
        Assert.True(Base64Url.TryDecode(results[0]!["payload_b64u"]!.GetValue<string>(), out var jwks));
        Assert.Equal([old.Kid, fresh.Kid], Jwks(jwks).Keys.Select(k => k.Kid));
        Assert.True(results[1]!["payload_b64u"] is not null, $"{script} refused the configuration: {results[1]}");
        Assert.Equal(Base64Url.Encode(configuration), results[1]!["payload_b64u"]!.GetValue<string>());
        Assert.NotNull(results[2]!["error"]); // signed by the old key, so the new one alone cannot vouch for it
    }

    private static JsonObject VerifyTask(string jws, params Jwk[] keys) => new()
    {
        ["op"] = "verify",
        ["jws"] = jws,
        ["jwks"] = new JsonObject { ["keys"] = new JsonArray(keys.Select(k => JsonNode.Parse(k.ToJson())).ToArray()) },
    };

    private static JsonArray Call(string program, string script, JsonArray tasks)
    {
        var result = Run.Process(program, [Path.Combine(Repo.Root, "tests", "interop", script)], stdin: tasks.ToJsonString());
        Assert.True(result.ExitCode == 0, $"{program} failed ({result.ExitCode}): {result.Stderr}");
        var parsed = JsonNode.Parse(result.Stdout)!.AsArray();
        Assert.Equal(tasks.Count, parsed.Count);
        return parsed;
    }
}
