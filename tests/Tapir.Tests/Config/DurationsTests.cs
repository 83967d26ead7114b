// Durations refuse what would overflow a TimeSpan (100 years at most) with a reason, and the
// shared bounds of a key say the same thing to the configuration and to its command-line option.
using Tapir.Config;

namespace Tapir.Tests.Config;

public sealed class DurationsTests
{
    [Theory]
    [InlineData("20000000d")]
    [InlineData("36501d")]
    [InlineData("876001h")]
    [InlineData("99999999999999999999d")]
    [InlineData("9223372036854775807s")]
    public void OverlongDurationsAreRefusedWithAReason(string text)
    {
        Assert.False(Durations.TryParse(text, out _, out string why));
        Assert.Equal("longer than 36500d", why);
    }

    [Fact]
    public void TheLongestDurationParses()
    {
        Assert.True(Durations.TryParse("36500d", out var value, out _));
        Assert.Equal(Durations.Longest, value);
        Assert.True(Durations.TryParse("876000h", out _));
        Assert.False(Durations.TryParse("1x", out _, out string why));
        Assert.Equal("a number and one of s, m, h, d, e.g. \"24h\"", why);
    }

    [Fact]
    public void TheSecretLifetimeBoundsAreTheKeysCheck()
    {
        var key = ConfigSchema.Find("core", "enrollment_secret_lifetime")!;
        Assert.Equal("between 1m and 30d", ConfigSchema.EnrollmentSecretLifetime.ToString());
        Assert.Equal("must be between 1m and 30d", key.Check!(TimeSpan.FromDays(31)));
        Assert.Null(key.Check!(TimeSpan.FromDays(30)));
        Assert.Equal("must be between 1m and 30d", key.Check!(TimeSpan.FromSeconds(59)));
    }
}
