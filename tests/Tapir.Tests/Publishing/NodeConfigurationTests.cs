// `tapir core node configure NAME FILE` and GET /api/v1/node/{name}/configuration on a real core:
// only existing, not removed nodes; the signed configuration is queued retained on the topic the
// enrollment answer names and served, the same bytes, to the node itself only (403 for another);
// removal drops it and clears the retained message; retiring the key that signed it re-signs it.
using System.Text.Json;
using Tapir.Storage;
using Tapir.Tests.Core;
using static Tapir.Tests.Publishing.CoreMessages;

namespace Tapir.Tests.Publishing;

public sealed class NodeConfigurationTests
{
    private static readonly byte[] Configuration = "{\"edm\":{\"interval\":60,\"ignored\":[\"example.com.\"]}}\n"u8.ToArray();

    [Fact]
    public void OnlyExistingNodesAndJsonObjectsAreConfigured()
    {
        using var core = new CoreProcess();
        string file = core.File("config.json");
        File.WriteAllBytes(file, Configuration);
        var r = core.Tapir("core", "node", "configure", "nope.example.net", file, "--wait", "0s");
        Assert.Equal((1, "tapir: error: node nope.example.net does not exist (add it with 'tapir core node add').\n"), (r.ExitCode, r.Stderr));
        core.AddNode("gone.example.net");
        Assert.Equal(0, core.Tapir("core", "node", "remove", "gone.example.net").ExitCode);
        r = core.Tapir("core", "node", "configure", "gone.example.net", file, "--wait", "0s");
        Assert.Equal((1, "tapir: error: node gone.example.net is removed; it takes no configuration.\n"), (r.ExitCode, r.Stderr));
        core.AddNode("new.example.net");
        File.WriteAllText(file, "[1,2]");
        r = core.Tapir("core", "node", "configure", "new.example.net", file, "--wait", "0s");
        Assert.Equal((1, "tapir: error: the configuration must be a JSON object, not array; refused.\n"), (r.ExitCode, r.Stderr));
        Assert.Empty(Outbox(core.StateDir));
        File.WriteAllBytes(file, Configuration);
        Assert.Equal(3, core.Tapir("core", "node", "configure", "new.example.net", file, "--wait", "0s").ExitCode); // a created node may be configured before it enrolls
        Assert.Equal("configuration/new.example.net/config", Assert.Single(Outbox(core.StateDir)).Topic);
    }

    [Fact]
    public async Task TheNodeAloneReadsItsSignedConfiguration()
    {
        using var core = new CoreProcess();
        core.Start();
        var (a, _) = DirectoryEndpointTests.EnrollDirect(core, "a.example.net");
        var (b, _) = DirectoryEndpointTests.EnrollDirect(core, "b.example.net");
        using var asA = EnrollmentClient.Client(core, a);
        using (var before = JsonDocument.Parse(await asA.GetStringAsync("api/v1/node/a.example.net/configuration")))
        {
            Assert.False(before.RootElement.TryGetProperty("configuration", out _));
        }
        string file = core.File("config.json");
        File.WriteAllBytes(file, Configuration);
        var r = core.Tapir("core", "node", "configure", "a.example.net", file, "--wait", "0s");
        Assert.True(r.ExitCode == 3, r.Stderr);
        Assert.StartsWith("queued configuration/a.example.net/config seq 1:", r.Stdout);

        var row = Assert.Single(Outbox(core.StateDir));
        using var answer = JsonDocument.Parse(await asA.GetStringAsync("api/v1/node/a.example.net/configuration"));
        var root = answer.RootElement;
        Assert.Equal((row.Topic, true), (root.GetProperty("mqtt_topics").GetProperty("config").GetString(), row.Retain));
        Assert.Equal(System.Text.Encoding.UTF8.GetString(row.Message), root.GetProperty("configuration").GetRawText());
        Assert.True(Tapir.Security.Jose.JwkSet.TryParse(System.Text.Encoding.UTF8.GetBytes(root.GetProperty("trusted_jwks").GetRawText()), out var trusted, out _));
        Assert.Equal(Configuration, Verify(row.Message, Assert.Single(trusted.Keys)));

        using var asB = EnrollmentClient.Client(core, b);
        using var other = await asB.GetAsync("api/v1/node/a.example.net/configuration");
        Assert.Equal(403, (int)other.StatusCode);
        Assert.DoesNotContain("configuration\":", await other.Content.ReadAsStringAsync());
        core.Stop();
    }

    [Fact]
    public void RemovalDropsTheConfigurationAndClearsTheRetainedMessage()
    {
        using var core = new CoreProcess();
        core.AddNode("a.example.net");
        string file = core.File("config.json");
        File.WriteAllBytes(file, Configuration);
        Assert.Equal(3, core.Tapir("core", "node", "configure", "a.example.net", file, "--wait", "0s").ExitCode);
        Assert.Equal(0, core.Tapir("core", "node", "remove", "a.example.net").ExitCode);
        var clear = Outbox(core.StateDir)[^1];
        Assert.Equal(("configuration/a.example.net/config", true, 0), (clear.Topic, clear.Retain, clear.Message.Length));
        using var db = CoreDatabase.Open(Path.Combine(core.StateDir, CoreDatabase.FileName));
        Assert.Null(NodeConfigurationStore.Get(db, "a.example.net"));
    }

    [Fact]
    public void RetiringTheSigningKeyResignsRetainedMessages()
    {
        using var core = new CoreProcess();
        core.AddNode("a.example.net");
        var old = PublicKey(core.StateDir, "core-data.jwk");
        string file = core.File("config.json");
        File.WriteAllBytes(file, Configuration);
        Assert.Equal(3, core.Tapir("core", "node", "configure", "a.example.net", file, "--wait", "0s").ExitCode);
        Assert.Equal(3, core.Tapir("core", "publish", "observations/down/tapir-pop", file, "--retain", "--wait", "0s").ExitCode);
        Assert.Equal(3, core.Tapir("core", "key", "rotate", "--wait", "0s").ExitCode);
        var fresh = CurrentPublicKey(core.StateDir);
        PublishAll(core.StateDir);
        var r = core.Tapir("core", "key", "retire", old.Kid!, "--wait", "0s");
        Assert.Contains("2 retained messages it signed re-signed and queued", r.Stdout);
        var rows = Outbox(core.StateDir);
        var configuration = rows.Last(m => m.Topic == "configuration/a.example.net/config");
        var observation = rows.Last(m => m.Topic == "observations/down/tapir-pop");
        Assert.Equal(Configuration, Verify(configuration.Message, fresh));
        Assert.Equal(Configuration, Verify(observation.Message, fresh));
        using var db = CoreDatabase.Open(Path.Combine(core.StateDir, CoreDatabase.FileName));
        var stored = NodeConfigurationStore.Get(db, "a.example.net")!;
        Assert.Equal(configuration.Message, stored.Message);
        Assert.Equal(fresh.Kid, stored.Kid);
    }
}
