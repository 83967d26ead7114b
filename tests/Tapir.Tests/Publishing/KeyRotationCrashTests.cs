// Crash safety of `tapir core key rotate` (DESIGN §7): SIGKILLed at spread-out moments, or with the
// leftovers of an interrupted write planted, the state is always the old one whole (same keys, no
// JWKS queued) or the new one whole (a new current key whose file is there, the old key trusted,
// and exactly one more JWKS queued, signed by the old key and naming both); the state still loads.
using System.Diagnostics;
using Tapir.Security.Jose;
using Tapir.Tests.Core;
using static Tapir.Tests.Publishing.CoreMessages;
using Xunit.Abstractions;

namespace Tapir.Tests.Publishing;

public sealed class KeyRotationCrashTests(ITestOutputHelper output)
{
    [Fact]
    public void KilledRotationsLeaveTheOldOrTheNewStateWhole()
    {
        using var core = new CoreProcess();
        // Kills spread from 0 to 1.4 times how long a whole rotation takes here (the fastest of three); the rounds repeat
        // (each fully checked) until some kill left the old state and some the new one.
        var duration = TimeSpan.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            var whole = Stopwatch.StartNew();
            Assert.Equal(3, core.Tapir("core", "key", "rotate", "--wait", "0s").ExitCode);
            duration = whole.Elapsed < duration ? whole.Elapsed : duration;
        }
        int completed = 0, untouched = 0;
        for (int round = 0; round < 3 && (completed == 0 || untouched == 0); round++)
        {
            for (int i = 0; i < 15; i++)
            {
                bool done = KillOnce(core, duration * (i / 10.0));
                completed += done ? 1 : 0;
                untouched += done ? 0 : 1;
            }
        }
        output.WriteLine($"{completed + untouched} rotations SIGKILLed 0-{(duration * 1.4).TotalMilliseconds:F0} ms after start (a whole one takes {duration.TotalMilliseconds:F0} ms): {completed} whole and new, {untouched} whole and old, none half-done");
        Assert.True(completed > 0 && untouched > 0, "no kill landed on both sides of the commit");
        Assert.Equal(3, core.Tapir("core", "key", "rotate", "--wait", "0s").ExitCode); // still works afterwards
    }

    /// <summary>One killed rotation, checked; true when it had committed.</summary>
    private static bool KillOnce(CoreProcess core, TimeSpan delay)
    {
        var before = KeyRecords(core.StateDir);
        int queued = Outbox(core.StateDir).Count;
        KillRotateAfter(core, delay);
        var after = KeyRecords(core.StateDir);
        Assert.Equal(0, core.Tapir("core", "key", "list").ExitCode);
        if (after.Count == before.Count)
        {
            Assert.Equal(before, after);
            Assert.Equal(queued, Outbox(core.StateDir).Count);
            return false;
        }
        AssertRotated(core.StateDir, before, after, queued);
        return true;
    }

    [Fact]
    public void LeftoversOfAnInterruptedWriteAreNeverRead()
    {
        using var core = new CoreProcess();
        string keys = Path.Combine(core.StateDir, "core-keys");
        Directory.CreateDirectory(keys);
        // A new key written whole but never recorded, and a temporary file cut off mid-write.
        var orphan = JwkGenerator.Generate(JwsAlgorithm.EdDSA);
        File.WriteAllText(Path.Combine(keys, orphan.Kid + ".jwk"), orphan.ToJson(includePrivate: true));
        File.SetUnixFileMode(Path.Combine(keys, orphan.Kid + ".jwk"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(keys, $".{orphan.Kid}.jwk.0123.tmp"), "{\"kty\":\"OKP\",\"crv\":");
        var old = PublicKey(core.StateDir, "core-data.jwk");
        var list = core.Tapir("core", "key", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.DoesNotContain(orphan.Kid!, list.Stdout);
        Assert.Equal(3, core.Tapir("core", "key", "rotate", "--wait", "0s").ExitCode);
        var jwks = Jwks(Verify(Assert.Single(Outbox(core.StateDir)).Message, old));
        Assert.Null(jwks.Find(orphan.Kid));
        Assert.Equal(2, jwks.Keys.Count);
    }

    private static void AssertRotated(string stateDir, IReadOnlyList<Tapir.Storage.CoreKeyRecord> before, IReadOnlyList<Tapir.Storage.CoreKeyRecord> after, int queued)
    {
        Assert.Equal(before.Count + 1, after.Count);
        var oldCurrent = before.Single(r => r.State == "current");
        Assert.Equal("trusted", after.Single(r => r.Kid == oldCurrent.Kid).State);
        var fresh = after[^1];
        Assert.Equal("current", fresh.State);
        Assert.True(File.Exists(Path.Combine(stateDir, fresh.File)));
        var rows = Outbox(stateDir);
        Assert.Equal(queued + 1, rows.Count);
        var jwks = Jwks(Verify(rows[^1].Message, PublicKey(stateDir, oldCurrent.File)));
        Assert.Equal(after.Where(r => r.State != "retired").Select(r => r.Kid), jwks.Keys.Select(k => k.Kid));
    }

    /// <summary>Starts a rotation as a service would run it (own session, stdin /dev/null) and SIGKILLs it after the delay (if still running).</summary>
    private static void KillRotateAfter(CoreProcess core, TimeSpan delay)
    {
        var start = new ProcessStartInfo("setsid") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in new[] { "sh", "-c", "exec \"$0\" core key rotate --wait 0s </dev/null", Repo.Binary })
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (k, v) in core.Environment)
        {
            start.Environment[k] = v;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(delay))
        {
            process.Kill();
        }
        process.WaitForExit();
        Task.WaitAll(stdout, stderr);
    }
}
