// Issue #9: a node must not enroll with a weak EdDSA data key. With the Ed25519 identity point as
// public_key, the signature R = identity, S = 0 "verifies" every message, so the node's renewals
// and messages could be forged by anyone. The real core refuses the key at payload parsing (400)
// and the node stays created, its enrollment secret unspent.
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;

namespace Tapir.Tests.Core;

public sealed class WeakDataKeyEnrollmentTests
{
    [Fact]
    public void IdentityPointDataKeyIsRefused()
    {
        using var core = new CoreProcess();
        core.Start();
        const string name = "weak.example.net";
        var credentials = EnrollmentClient.Read(core.AddNode(name));
        byte[] identity = new byte[32];
        identity[0] = 1; // y = 1, x = 0: the neutral element
        string x = Base64Url.Encode(identity);
        using var tls = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var payload = JsonNode.Parse(EnrollmentClient.Payload(DateTimeOffset.UtcNow, EnrollmentClient.Csr($"CN={name}", tls, EnrollmentClient.San(name)), null))!;
        payload["public_key"] = new JsonObject { ["kty"] = "OKP", ["crv"] = "Ed25519", ["kid"] = name, ["x"] = x };
        var jws = JsonNode.Parse(JwsSigner.General(System.Text.Encoding.UTF8.GetBytes(payload.ToJsonString()), [credentials.Secret]))!;
        jws["signatures"]!.AsArray().Add(new JsonObject
        {
            ["protected"] = Base64Url.Encode(System.Text.Encoding.UTF8.GetBytes($$"""{"alg":"EdDSA","kid":"{{name}}"}""")),
            ["signature"] = Base64Url.Encode([.. identity, .. new byte[32]]), // R = identity, S = 0
        });

        using var client = EnrollmentClient.Client(core);
        var (status, body) = EnrollmentClient.Post(client, $"api/v1/node/{name}/enroll", jws.ToJsonString());
        Assert.Equal(400, status);
        Assert.Equal("{\"error\":\"payload: key unusable\"}", body);
        core.AssertLogged($"/{name}/enroll from 127.0.0.1: 400 payload: key unusable (payload: WeakOrInvalidKey");
        Assert.Contains("state: created", core.Tapir("core", "node", "show", name).Stdout);

        // The secret was not spent: the same node still enrolls with a real key.
        var dataKey = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: name);
        Assert.Equal(200, EnrollmentClient.Post(client, $"api/v1/node/{name}/enroll", EnrollmentClient.Enrollment(credentials, dataKey)).Status);
    }
}
