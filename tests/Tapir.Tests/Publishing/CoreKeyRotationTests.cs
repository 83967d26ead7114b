// `tapir core key rotate|retire|list` with the real binary (DESIGN §6.5): the trusted JWKS is
// queued retained on config/down/jwks, signed by the key that was current before the change, its
// payload the new JWKS; retire never takes the current or the last key, nor one whose messages
// still wait in the outbox; a running core picks up a rotation without a restart.
using System.Text.Json;
using Tapir.Security.Jose;
using Tapir.Storage;
using Tapir.Tests.Core;
using static Tapir.Tests.Publishing.CoreMessages;

namespace Tapir.Tests.Publishing;

public sealed class CoreKeyRotationTests
{
    [Fact]
    public void RotateQueuesTheJwksOfBothKeysSignedByTheOldKey()
    {
        using var core = new CoreProcess();
        var old = PublicKey(core.StateDir, "core-data.jwk");
        var r = core.Tapir("core", "key", "rotate", "--wait", "0s");
        Assert.True(r.ExitCode == 3, r.Stderr); // done, queued, no core running to publish it
        Assert.Contains("queued config/down/jwks seq 1: not published within 0s", r.Stdout);

        var row = Assert.Single(Outbox(core.StateDir));
        Assert.Equal(("config/down/jwks", true), (row.Topic, row.Retain));
        var jwks = Jwks(Verify(row.Message, old));
        var fresh = CurrentPublicKey(core.StateDir);
        Assert.NotEqual(old.Kid, fresh.Kid);
        Assert.Equal([old.Kid, fresh.Kid], jwks.Keys.Select(k => k.Kid));
        Assert.All(jwks.Keys, k => Assert.False(k.HasPrivateKey));
        Assert.Equal(fresh.ToJson(), jwks.Find(fresh.Kid)!.ToJson());
        Assert.All(jwks.Keys, k => Assert.Equal((JwsAlgorithm?)JwsAlgorithm.EdDSA, k.Alg));
        Assert.All(jwks.Keys, k => Assert.Equal("sig", k.Use));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(core.StateDir, "core-keys", fresh.Kid + ".jwk")));

        var list = core.Tapir("core", "key", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.Matches($@"{old.Kid}\s+EdDSA\s+trusted", list.Stdout);
        Assert.Matches($@"{fresh.Kid}\s+EdDSA\s+current", list.Stdout);
    }

    [Fact]
    public void RetireQueuesTheReducedJwksSignedByTheNewKeyAndDeletesTheOldKey()
    {
        using var core = new CoreProcess();
        var old = PublicKey(core.StateDir, "core-data.jwk");
        Assert.Equal(3, core.Tapir("core", "key", "rotate", "--alg", "ES256", "--wait", "0s").ExitCode);
        var fresh = CurrentPublicKey(core.StateDir);
        Assert.Equal(JwsAlgorithm.ES256, fresh.Alg);

        // The rotation's JWKS, signed by the old key, is how edges that trust only it learn the new one.
        var early = core.Tapir("core", "key", "retire", old.Kid!, "--wait", "0s");
        Assert.Equal((1, $"tapir: error: 1 queued messages signed by {old.Kid} are not published yet (the first: seq 1 on config/down/jwks); edges need them before the key goes: let 'tapir core serve' publish them, then retire it.\n"),
            (early.ExitCode, early.Stderr));
        Assert.Single(Outbox(core.StateDir));
        PublishAll(core.StateDir);

        var r = core.Tapir("core", "key", "retire", old.Kid!, "--wait", "0s");
        Assert.True(r.ExitCode == 3, r.Stderr);
        Assert.Contains($"core data key {old.Kid} retired", r.Stdout);
        var row = Outbox(core.StateDir)[^1];
        Assert.Equal(("config/down/jwks", true), (row.Topic, row.Retain));
        Assert.False(VerifiesWith(row.Message, old));
        Assert.Equal([fresh.Kid], Jwks(Verify(row.Message, fresh)).Keys.Select(k => k.Kid));
        Assert.False(File.Exists(Path.Combine(core.StateDir, "core-data.jwk")), "a retired key's private file is deleted");
        Assert.Matches($@"{old.Kid}\s+EdDSA\s+retired", core.Tapir("core", "key", "list").Stdout);
    }

    [Fact]
    public void RetiringTheCurrentTheLastOrAnUnknownKeyIsRefused()
    {
        using var core = new CoreProcess();
        var first = PublicKey(core.StateDir, "core-data.jwk");
        AssertRefused(core, first.Kid!, $"tapir: error: core data key {first.Kid} is the last trusted key; refusing to retire it (edges would trust no core key).\n");
        Assert.Equal(3, core.Tapir("core", "key", "rotate", "--wait", "0s").ExitCode);
        var second = CurrentPublicKey(core.StateDir);
        AssertRefused(core, second.Kid!, $"tapir: error: core data key {second.Kid} is the current signing key; run 'tapir core key rotate' first, then retire it.\n");
        AssertRefused(core, "no-such-kid", "tapir: error: there is no core data key no-such-kid (see 'tapir core key list').\n");
        PublishAll(core.StateDir);
        Assert.Equal(3, core.Tapir("core", "key", "retire", first.Kid!, "--wait", "0s").ExitCode);
        AssertRefused(core, first.Kid!, $"tapir: error: core data key {first.Kid} is already retired.\n");
        AssertRefused(core, second.Kid!, $"tapir: error: core data key {second.Kid} is the last trusted key; refusing to retire it (edges would trust no core key).\n");
        Assert.Equal(2, Outbox(core.StateDir).Count); // the rotation's JWKS and the retirement's, nothing for the refusals
    }

    private static void AssertRefused(CoreProcess core, string kid, string error)
    {
        int before = Outbox(core.StateDir).Count;
        var r = core.Tapir("core", "key", "retire", kid, "--wait", "0s");
        Assert.Equal((1, "", error), (r.ExitCode, r.Stdout, r.Stderr));
        Assert.Equal(before, Outbox(core.StateDir).Count);
    }

    [Fact]
    public void AStateFromBeforeSeveralKeysIsAdopted()
    {
        using var core = new CoreProcess();
        var key = PublicKey(core.StateDir, "core-data.jwk");
        using (var db = CoreDatabase.Open(Path.Combine(core.StateDir, CoreDatabase.FileName)))
        {
            // Back to the schema before this migration (the last one): core-data.jwk and no key record.
            long before = Database.SchemaVersion(db) - 1;
            using var cmd = db.CreateCommand();
            cmd.CommandText = $"DROP TABLE core_keys; DROP TABLE node_configurations; PRAGMA user_version = {before};";
            cmd.ExecuteNonQuery();
        }
        var list = core.Tapir("core", "key", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.Matches($@"{key.Kid}\s+EdDSA\s+current", list.Stdout);
        var record = Assert.Single(KeyRecords(core.StateDir));
        Assert.Equal((key.Kid, "core-data.jwk", "current"), (record.Kid, record.File, record.State));
        Assert.Equal(3, core.Tapir("core", "key", "rotate", "--wait", "0s").ExitCode);
        Assert.Equal(2, Jwks(Verify(Assert.Single(Outbox(core.StateDir)).Message, key)).Keys.Count);
    }

    [Fact]
    public void BadAlgorithmOrCurveIsAUsageError()
    {
        using var core = new CoreProcess();
        foreach (var args in new[] { new[] { "--alg", "HS256" }, ["--alg", "none"], ["--alg", "ES256", "--crv", "Ed448"], ["--wait", "1y"] })
        {
            var r = core.Tapir(["core", "key", "rotate", .. args]);
            Assert.True(r.ExitCode == 2, r.Stderr);
            Assert.StartsWith("tapir: error: --", r.Stderr);
        }
        Assert.Empty(Outbox(core.StateDir));
        Assert.Single(KeyRecords(core.StateDir));
    }

    [Fact]
    public async Task ARunningCoreSignsWithAndServesTheRotatedKeys()
    {
        using var core = new CoreProcess();
        core.Start();
        var (identity, _) = DirectoryEndpointTests.EnrollDirect(core, "edge1.example.net");
        var old = PublicKey(core.StateDir, "core-data.jwk");
        Assert.Equal(3, core.Tapir("core", "key", "rotate", "--wait", "0s").ExitCode);
        var fresh = CurrentPublicKey(core.StateDir);
        core.AssertLogged($"core data key now {fresh.Kid} (was {old.Kid})");
        using var client = EnrollmentClient.Client(core, identity);
        using var doc = JsonDocument.Parse(await client.GetStringAsync("api/v1/jwks"));
        Assert.Equal([old.Kid, fresh.Kid], doc.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()));
        core.Stop();
    }
}
