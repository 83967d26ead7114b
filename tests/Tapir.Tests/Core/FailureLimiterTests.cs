// The enrollment and renewal failure limiter (issue 9): failures count against the mTLS peer or
// else the address, never against a name from the URL; a refusal for the limit is not a failure;
// a flood of 100,000 junk requests from one address keeps one fixed-size entry and allocates
// nothing per failure; the table of addresses is bounded and forgets idle entries.
using System.Net;
using Tapir.Core.Enrollment;

namespace Tapir.Tests.Core;

public sealed class FailureLimiterTests
{
    private static readonly DateTimeOffset T = DateTimeOffset.UnixEpoch;

    private static string Address(string ip) => FailureLimiter.Key(null, IPAddress.Parse(ip));

    [Fact]
    public void LimitsPerPeerAndPerAddressWithinTheWindow()
    {
        var limiter = new FailureLimiter(perPeer: 3, perAddress: 5, window: TimeSpan.FromMinutes(5));
        string peer = FailureLimiter.Key("a.example.net", IPAddress.Parse("10.0.0.1"));
        for (int i = 0; i < 3; i++)
        {
            Assert.False(limiter.IsLimited(peer, T));
            limiter.Fail(peer, T);
        }
        Assert.True(limiter.IsLimited(peer, T));
        Assert.False(limiter.IsLimited(FailureLimiter.Key("b.example.net", IPAddress.Parse("10.0.0.1")), T));
        Assert.False(limiter.IsLimited(Address("10.0.0.1"), T)); // the peer's failures are its own
        for (int i = 0; i < 5; i++)
        {
            limiter.Fail(Address("10.0.0.2"), T);
        }
        Assert.True(limiter.IsLimited(Address("10.0.0.2"), T));
        Assert.False(limiter.IsLimited(Address("10.0.0.3"), T));
        Assert.False(limiter.IsLimited(peer, T + TimeSpan.FromMinutes(6)));
        Assert.False(limiter.IsLimited(Address("10.0.0.2"), T + TimeSpan.FromMinutes(6)));
    }

    [Fact]
    public void AHundredThousandJunkRequestsFromOneAddressNeverLimitTheNode()
    {
        var limiter = new FailureLimiter();
        string junk = Address("192.0.2.7");
        string node = FailureLimiter.Key("edge1.example.net", IPAddress.Parse("192.0.2.7")); // same address, but mTLS
        limiter.Fail(junk, T); // warm up: the first entry and the dictionary's buckets
        long before = GC.GetAllocatedBytesForCurrentThread();
        int answered429 = 0;
        for (int i = 0; i < 100_000; i++)
        {
            var now = T + TimeSpan.FromMilliseconds(i);
            if (limiter.IsLimited(junk, now))
            {
                answered429++; // what the router answers: 429, not counted as a failure
                continue;
            }
            limiter.Fail(junk, now);
        }
        for (int i = 0; i < 100_000; i++)
        {
            limiter.Fail(junk, T); // and a caller that counted every request anyway
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(100_000 - 49, answered429);
        Assert.Equal(1, limiter.Tracked);
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated for 200,000 failures");
        Assert.False(limiter.IsLimited(node, T + TimeSpan.FromSeconds(100)));
        Assert.True(limiter.IsLimited(junk, T + TimeSpan.FromSeconds(100)));
    }

    [Fact]
    public void RefusalsForTheLimitDoNotExtendIt()
    {
        var limiter = new FailureLimiter(perAddress: 2, window: TimeSpan.FromMinutes(5));
        string junk = Address("192.0.2.8");
        limiter.Fail(junk, T);
        limiter.Fail(junk, T);
        for (int s = 0; s < 300; s += 30)
        {
            Assert.True(limiter.IsLimited(junk, T + TimeSpan.FromSeconds(s))); // one junk request every 30 s
        }
        Assert.False(limiter.IsLimited(junk, T + TimeSpan.FromSeconds(300)));
    }

    [Fact]
    public void AnIpv6HostCountsAsItsSlash64()
    {
        Assert.Equal(Address("2001:db8:1:2::1"), Address("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        Assert.NotEqual(Address("2001:db8:1:2::1"), Address("2001:db8:1:3::1"));
        Assert.Equal(Address("192.0.2.1"), Address("::ffff:192.0.2.1"));
    }

    [Fact]
    public void TheAddressTableIsBoundedAndForgetsIdleEntries()
    {
        var limiter = new FailureLimiter(perAddress: 50, window: TimeSpan.FromMinutes(5), maxTracked: 100);
        for (int i = 0; i < 1000; i++)
        {
            limiter.Fail(Address($"198.51.{i / 250}.{i % 250}"), T);
        }
        Assert.Equal(100, limiter.Tracked);
        // Full of live entries: a new address is limited, a peer never is.
        Assert.True(limiter.IsLimited(Address("203.0.113.1"), T));
        Assert.False(limiter.IsLimited(FailureLimiter.Key("edge1.example.net", null), T));
        var later = T + TimeSpan.FromMinutes(10);
        Assert.False(limiter.IsLimited(Address("203.0.113.1"), later));
        for (int i = 0; i < 256; i++)
        {
            limiter.Fail(Address("203.0.113.1"), later);
        }
        Assert.Equal(1, limiter.Tracked);
    }
}
