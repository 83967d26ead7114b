// The broker's ACL (Mqtt/MqttAcl.cs, DESIGN §6.2) with the issue's default rules: topic and filter
// syntax, `{node}` substitution, covering versus overlapping, deny over allow, retained publishes.
using Tapir.Security.Mqtt;

namespace Tapir.Security.Tests.Mqtt;

public sealed class MqttAclTests
{
    private const string Edge = "edge1.example.net";
    private const string Role = "reader.example.net";

    private static readonly MqttAclRules Defaults = new(
        ["events/up/{node}/#", "status/up/{node}/#"],
        ["observations/down/#", "config/down/#", "configuration/{node}/#"],
        [],
        ["verified/#", "aggregates"],
        []);

    private static readonly MqttAcl Acl = new(Defaults);

    [Theory]
    [InlineData("events/up/edge1.example.net/new_qname", Rejection.None)]
    [InlineData("status/up/edge1.example.net/tapir", Rejection.None)]
    [InlineData("events/up/edge1.example.net", Rejection.None)] // `#` also matches the parent level
    [InlineData("events/up/edge2.example.net/new_qname", Rejection.AclDenied)]
    [InlineData("config/down/jwks", Rejection.AclDenied)]
    [InlineData("verified/events/up/edge1.example.net/x", Rejection.AclDenied)]
    [InlineData("events/up/+/x", Rejection.Malformed)]
    [InlineData("events/up/edge1.example.net/#", Rejection.Malformed)]
    [InlineData("events/up/edge1.example.net/a\0b", Rejection.Malformed)]
    [InlineData("$SYS/broker/load", Rejection.Malformed)]
    [InlineData("", Rejection.Malformed)]
    public void AnEdgePublishesOnlyToItsOwnUpTopics(string topic, Rejection expected)
    {
        Assert.Equal(expected == Rejection.None, Acl.TryAuthorizePublish(Edge, false, topic, false, out var why));
        Assert.Equal(expected, why);
    }

    [Fact]
    public void ATopicOverOneKibibyteIsTooLarge()
    {
        string topic = $"events/up/{Edge}/" + new string('a', 1024);
        Assert.False(Acl.TryAuthorizePublish(Edge, false, topic, false, out var why));
        Assert.Equal(Rejection.TooLarge, why);
        Assert.False(Acl.TryAuthorizeSubscribe(Edge, false, "config/down/" + new string('a', 1024), out why));
        Assert.Equal(Rejection.TooLarge, why);
    }

    [Fact]
    public void AnEdgeMayNotPublishRetainedEvenOnItsOwnTopic()
    {
        Assert.False(Acl.TryAuthorizePublish(Edge, false, $"events/up/{Edge}/x", true, out var why));
        Assert.Equal(Rejection.AclDenied, why);
        Assert.False(Acl.TryAuthorizePublish(Edge, false, "config/down/jwks", true, out why));
        Assert.Equal(Rejection.AclDenied, why);
    }

    [Theory]
    [InlineData("config/down/jwks", Rejection.None)]
    [InlineData("config/down/#", Rejection.None)]
    [InlineData("observations/down/+", Rejection.None)]
    [InlineData("configuration/edge1.example.net/config", Rejection.None)]
    [InlineData("configuration/edge1.example.net/#", Rejection.None)]
    [InlineData("configuration/edge2.example.net/config", Rejection.AclDenied)]
    [InlineData("configuration/+/config", Rejection.AclDenied)]
    [InlineData("configuration/#", Rejection.AclDenied)]
    [InlineData("#", Rejection.AclDenied)]
    [InlineData("+/+/+/+", Rejection.AclDenied)]
    [InlineData("+/down/#", Rejection.AclDenied)]
    [InlineData("verified/#", Rejection.AclDenied)]
    [InlineData("aggregates", Rejection.AclDenied)]
    [InlineData("$SYS/#", Rejection.Malformed)]
    [InlineData("config/down/a#", Rejection.Malformed)]
    [InlineData("config/#/x", Rejection.Malformed)]
    [InlineData("config/down+/x", Rejection.Malformed)]
    public void AnEdgeSubscribesOnlyWithinItsAllowedFilters(string filter, Rejection expected)
    {
        Assert.Equal(expected == Rejection.None, Acl.TryAuthorizeSubscribe(Edge, false, filter, out var why));
        Assert.Equal(expected, why);
    }

    [Theory]
    [InlineData("verified/#", Rejection.None)]
    [InlineData("verified/events/up/+/#", Rejection.None)]
    [InlineData("aggregates", Rejection.None)]
    [InlineData("aggregates/x", Rejection.AclDenied)]
    [InlineData("events/up/#", Rejection.AclDenied)]
    [InlineData("#", Rejection.AclDenied)]
    public void ACoreRoleReadsVerifiedAndAggregates(string filter, Rejection expected)
    {
        Assert.Equal(expected == Rejection.None, Acl.TryAuthorizeSubscribe(Role, true, filter, out var why));
        Assert.Equal(expected, why);
        Assert.False(Acl.TryAuthorizePublish(Role, true, "verified/events/up/x/y", false, out why));
        Assert.Equal(Rejection.AclDenied, why);
    }

    [Fact]
    public void DenyWinsOverAllowIncludingThroughWildcards()
    {
        var acl = new MqttAcl(Defaults with { Deny = ["config/down/secret", "events/up/{node}/forbidden/#", "observations/down/+/x"] });
        Assert.False(acl.TryAuthorizeSubscribe(Edge, false, "config/down/#", out var why));
        Assert.Equal(Rejection.AclDenied, why);
        Assert.False(acl.TryAuthorizeSubscribe(Edge, false, "config/down/secret", out _));
        Assert.True(acl.TryAuthorizeSubscribe(Edge, false, "config/down/jwks", out _));
        Assert.False(acl.TryAuthorizeSubscribe(Edge, false, "observations/down/+/+", out _));
        Assert.True(acl.TryAuthorizeSubscribe(Edge, false, "observations/down/a/y", out _));
        Assert.False(acl.TryAuthorizePublish(Edge, false, $"events/up/{Edge}/forbidden/a", false, out why));
        Assert.Equal(Rejection.AclDenied, why);
        Assert.True(acl.TryAuthorizePublish(Edge, false, $"events/up/{Edge}/allowed", false, out _));
    }

    [Theory]
    [InlineData("a/#", "a", true)]
    [InlineData("a/#", "a/b/c", true)]
    [InlineData("a/+", "a/b", true)]
    [InlineData("a/+", "a/b/c", false)]
    [InlineData("a/+", "a", false)]
    [InlineData("+/+", "a/b", true)]
    [InlineData("a/b", "a/b", true)]
    [InlineData("a/b", "a/c", false)]
    [InlineData("#", "a/b", true)]
    public void FiltersMatchTopicsAsMqttSays(string filter, string topic, bool expected) =>
        Assert.Equal(expected, TopicFilter.Matches(filter, topic));

    [Theory]
    [InlineData("a/+", "a/#", false)]
    [InlineData("a/#", "a/+", true)]
    [InlineData("a/#", "a/#", true)]
    [InlineData("a/+/c", "a/+/c", true)]
    [InlineData("a/b/c", "a/+/c", false)]
    public void APatternCoversAFilterOnlyWhenItMatchesEverythingTheFilterCan(string pattern, string filter, bool expected) =>
        Assert.Equal(expected, TopicFilter.Covers(pattern, filter));

    [Theory]
    [InlineData("a/+", "a/#", true)]
    [InlineData("a/+/c", "a/b/+", true)]
    [InlineData("a/b", "a/c", false)]
    [InlineData("a/b/c", "a/#", true)]
    [InlineData("a", "a/#", true)]
    [InlineData("a/b", "a/b/c", false)]
    public void TwoFiltersOverlapWhenSomeTopicMatchesBoth(string a, string b, bool expected)
    {
        Assert.Equal(expected, TopicFilter.Overlaps(a, b));
        Assert.Equal(expected, TopicFilter.Overlaps(b, a));
    }
}
