// The broker's access rules (DESIGN §6.2): allow patterns for edges and for core roles, each with
// `{node}` standing for the peer's own node name, and deny patterns for everyone; deny wins. A
// publish is allowed when its topic is valid, matches an allow pattern and overlaps no deny
// pattern; a subscription when its filter is valid, is covered whole by one allow pattern (so `#`
// or `+/+/+/+` never slips through a narrower rule) and overlaps no deny pattern. Retained
// publishes are allowed to core roles only. Pure: the host logs and counts each refusal.
namespace Tapir.Security.Mqtt;

public sealed record MqttAclRules(
    IReadOnlyList<string> EdgePublish,
    IReadOnlyList<string> EdgeSubscribe,
    IReadOnlyList<string> CoreRolePublish,
    IReadOnlyList<string> CoreRoleSubscribe,
    IReadOnlyList<string> Deny);

public sealed class MqttAcl(MqttAclRules rules)
{
    public const string NodePlaceholder = "{node}";

    public MqttAclRules Rules { get; } = rules;

    public bool TryAuthorizePublish(string node, bool coreRole, string topic, bool retain, out Rejection why)
    {
        if (!TopicFilter.IsValidTopic(topic, out why))
        {
            return false;
        }
        bool allowed = !(retain && !coreRole) && Allowed(node, coreRole ? Rules.CoreRolePublish : Rules.EdgePublish, p => TopicFilter.Matches(p, topic))
            && !Rules.Deny.Any(d => TopicFilter.Overlaps(Expand(d, node), topic));
        why = allowed ? Rejection.None : Rejection.AclDenied;
        return allowed;
    }

    public bool TryAuthorizeSubscribe(string node, bool coreRole, string filter, out Rejection why)
    {
        if (!TopicFilter.IsValidFilter(filter, out why))
        {
            return false;
        }
        bool allowed = Allowed(node, coreRole ? Rules.CoreRoleSubscribe : Rules.EdgeSubscribe, p => TopicFilter.Covers(p, filter))
            && !Rules.Deny.Any(d => TopicFilter.Overlaps(Expand(d, node), filter));
        why = allowed ? Rejection.None : Rejection.AclDenied;
        return allowed;
    }

    /// <summary>A pattern with the peer's node name put in for `{node}`.</summary>
    public static string Expand(string pattern, string node) => pattern.Replace(NodePlaceholder, node, StringComparison.Ordinal);

    private static bool Allowed(string node, IReadOnlyList<string> patterns, Func<string, bool> test) =>
        patterns.Any(p => test(Expand(p, node)));
}
