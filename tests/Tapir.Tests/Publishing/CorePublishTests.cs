// `tapir core publish TOPIC FILE` with the real binary: bad topics are usage errors (exit 2), bad
// or oversized JSON is refused (exit 1), and neither queues anything; a good message is queued as
// a flattened JWS over the file's own bytes that verifies with the current core key; with no core
// publishing, the command says it is queued and exits 3 once --wait runs out; once the broker
// marks the row published it says so and exits 0.
using System.Diagnostics;
using Tapir.Storage;
using Tapir.Tests.Core;
using static Tapir.Tests.Publishing.CoreMessages;

namespace Tapir.Tests.Publishing;

public sealed class CorePublishTests
{
    private static readonly (string Topic, string Reason)[] BadTopics =
    [
        ("", "the topic is empty"),
        ("a/+", "wildcard"),
        ("a/#", "wildcard"),
        ("#", "wildcard"),
        ("$SYS/broker/clients", "topics starting with $ belong to the broker"),
        ("a//b", "empty level"),
        ("/a", "empty level"),
        ("a/", "empty level"),
        ("a\u0001b", "control character"),
        ("a\u007fb", "control character"),
        (new string('t', 1025), "longer than 1024 bytes"),
        (new string('é', 513), "longer than 1024 bytes"),
        ("config/down/jwks", "use 'tapir core key rotate' or 'retire'"),
        ("configuration/edge1.example.net/config", "use 'tapir core node configure'"),
        ("verified/events/up/edge1.example.net/x", "edge-to-core traffic"),
        ("events/up/edge1.example.net/x", "edge-to-core traffic"),
        ("status/up/edge1.example.net/tapir", "edge-to-core traffic"),
    ];

    [Fact]
    public void BadTopicsAreRefused()
    {
        using var core = new CoreProcess();
        string file = core.File("m.json");
        File.WriteAllText(file, "{\"a\":1}");
        foreach (var (topic, reason) in BadTopics)
        {
            var r = core.Tapir("core", "publish", topic, file, "--wait", "0s");
            Assert.True(r.ExitCode == 2, $"{topic}: {r.ExitCode} {r.Stdout} {r.Stderr}");
            Assert.StartsWith("tapir: error: topic '", r.Stderr);
            Assert.Contains(reason, r.Stderr);
            Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        }
        Assert.Empty(Outbox(core.StateDir));
    }

    [Fact]
    public void BadJsonAndOversizedFilesAreRefused()
    {
        using var core = new CoreProcess();
        var cases = new (byte[] Content, string Error)[]
        {
            ("{\"a\":1,\"a\":2}"u8.ToArray(), "is not strict JSON (DuplicateMember"),
            ("{\"a\":1} {}"u8.ToArray(), "is not strict JSON (Malformed"),
            ("not json"u8.ToArray(), "is not strict JSON (Malformed"),
            ("{\"a\":1,}"u8.ToArray(), "is not strict JSON (Malformed"),
            ([(byte)'"', 0xff, 0xfe, (byte)'"'], "is not strict JSON (Malformed"),
            ([], "is not strict JSON (Malformed"),
            (System.Text.Encoding.UTF8.GetBytes("\"" + new string('x', 256 * 1024) + "\""), "larger than 262144 bytes"),
        };
        foreach (var (content, error) in cases)
        {
            string file = core.File("bad.json");
            File.WriteAllBytes(file, content);
            var r = core.Tapir("core", "publish", "observations/down/tapir-pop", file, "--wait", "0s");
            Assert.True(r.ExitCode == 1, $"{error}: {r.ExitCode} {r.Stderr}");
            Assert.StartsWith("tapir: error: ", r.Stderr);
            Assert.Contains(error, r.Stderr);
        }
        var missing = core.Tapir("core", "publish", "a/b", core.File("none.json"), "--wait", "0s");
        Assert.Equal((1, $"tapir: error: {core.File("none.json")} does not exist.\n"), (missing.ExitCode, missing.Stderr));
        Assert.Empty(Outbox(core.StateDir));
    }

    [Fact]
    public void AQueuedMessageIsTheFileSignedByTheCoreKey()
    {
        using var core = new CoreProcess();
        string file = core.File("obs.json");
        byte[] content = "{\"type\":\"observation\",\"names\":[\"www.example.net.\"],\"note\":\"’ü\"}\n"u8.ToArray();
        File.WriteAllBytes(file, content);
        var watch = Stopwatch.StartNew();
        var r = core.Tapir("core", "publish", "observations/down/tapir-pop", file, "--retain", "--wait", "1s");
        watch.Stop();
        Assert.True(r.ExitCode == 3, r.Stderr);
        Assert.Equal("queued observations/down/tapir-pop seq 1: not published within 1s (is 'tapir core serve' running?); it stays queued and is published when the core runs\n", r.Stdout);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1), $"returned after {watch.Elapsed}, before the wait ran out");
        var row = Assert.Single(Outbox(core.StateDir));
        Assert.Equal(("observations/down/tapir-pop", true), (row.Topic, row.Retain));
        Assert.Equal(content, Verify(row.Message, CurrentPublicKey(core.StateDir)));

        Assert.Equal(3, core.Tapir("core", "publish", "observations/down/tapir-pop", file, "--wait", "0s").ExitCode);
        Assert.False(Outbox(core.StateDir)[^1].Retain);
    }

    [Fact]
    public async Task ItSaysPublishedOnceTheBrokerMarksTheRow()
    {
        using var core = new CoreProcess();
        string file = core.File("m.json");
        File.WriteAllText(file, "{\"a\":1}");
        var command = Task.Run(() => core.Tapir("core", "publish", "a/b", file, "--wait", "30s"));
        // Plays the broker: marks the row published once it is there, as `core serve` does after the PUBACK.
        using (var db = CoreDatabase.Open(Path.Combine(core.StateDir, CoreDatabase.FileName)))
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (MqttOutbox.Pending(db).Count == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            MqttOutbox.MarkPublished(db, Assert.Single(MqttOutbox.Pending(db)).Seq, DateTimeOffset.UtcNow);
        }
        var r = await command;
        Assert.Equal((0, "published a/b seq 1\n", ""), (r.ExitCode, r.Stdout, r.Stderr));
    }
}
