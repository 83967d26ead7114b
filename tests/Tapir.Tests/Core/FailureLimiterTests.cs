// The enrollment failure limiter: per node and per address thresholds within the window, and a
// table that forgets idle entries, so client-chosen names cannot grow it without bound.
using Tapir.Core.Enrollment;

namespace Tapir.Tests.Core;

public sealed class FailureLimiterTests
{
    [Fact]
    public void LimitsPerNodeAndPerAddressWithinTheWindow()
    {
        var limiter = new FailureLimiter(perNode: 3, perAddress: 5, window: TimeSpan.FromMinutes(5));
        var t = DateTimeOffset.UnixEpoch;
        for (int i = 0; i < 3; i++)
        {
            Assert.False(limiter.IsLimited("a", "10.0.0.1", t));
            limiter.Fail("a", "10.0.0.1", t);
        }
        Assert.True(limiter.IsLimited("a", "10.0.0.2", t));
        Assert.False(limiter.IsLimited("b", "10.0.0.2", t));
        limiter.Fail("b", "10.0.0.1", t);
        limiter.Fail("c", "10.0.0.1", t);
        Assert.True(limiter.IsLimited("d", "10.0.0.1", t));
        Assert.False(limiter.IsLimited("a", "10.0.0.1", t + TimeSpan.FromMinutes(6)));
    }

    [Fact]
    public void IdleEntriesAreForgotten()
    {
        var limiter = new FailureLimiter(window: TimeSpan.FromMinutes(5));
        var t = DateTimeOffset.UnixEpoch;
        for (int i = 0; i < 1000; i++)
        {
            limiter.Fail($"random{i}.example.net", $"192.0.2.{i % 250}", t);
        }
        var later = t + TimeSpan.FromMinutes(10);
        for (int i = 0; i < 256; i++)
        {
            limiter.Fail("fresh.example.net", "198.51.100.1", later);
        }
        Assert.Equal(2, limiter.Tracked);
    }
}
