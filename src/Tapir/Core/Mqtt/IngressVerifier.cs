// Enforcement at ingress (DESIGN §2, §6.3, §6.4): a message an edge publishes must be a JWS
// (compact, flattened or general) whose every signature verifies with that edge's data key from
// the nodes table, under an asymmetric algorithm equal to the key's, with `kid` = the node = the
// certificate's node = the topic's node segment (the level where the matched edge_publish pattern
// has `{node}`). Anything else is refused with the library's reason. Data keys are cached: a
// node's data key is fixed at enrollment, and a removed node's sessions are closed elsewhere.
using System.Collections.Concurrent;
using Tapir.Core.Enrollment;
using Tapir.Security;
using Tapir.Security.Jose;
using Tapir.Security.Mqtt;
using Tapir.Storage;

namespace Tapir.Core.Mqtt;

public sealed class IngressVerifier(CoreContext core)
{
    private readonly ConcurrentDictionary<string, JwkSet> keys = new(StringComparer.Ordinal);

    /// <summary>Null when the message is acceptable, else the reason it is refused.</summary>
    public string? Refusal(string node, string topic, ReadOnlyMemory<byte> payload)
    {
        if (!TopicNamesNode(node, topic))
        {
            return "the topic's node segment is not the publishing node";
        }
        if (KeyOf(node) is not JwkSet set)
        {
            return $"{Rejection.KeyNotFound}: node has no data key";
        }
        var policy = new JwsPolicy(JwsAlgorithms.Asymmetric, set);
        if (!JwsParser.TryParse(payload, policy.MaxBytes, out var message, out var why))
        {
            return $"{why}: not a JWS";
        }
        if (message.Signatures.Any(s => s.Kid != node))
        {
            return $"{Rejection.NameMismatch}: kid is not the node";
        }
        return JwsVerifier.TryVerify(message, policy, out _, out why) ? null : why.ToString();
    }

    private bool TopicNamesNode(string node, string topic)
    {
        string[] levels = topic.Split('/');
        foreach (string pattern in core.Config.MqttAcl.EdgePublish)
        {
            int at = Array.IndexOf(pattern.Split('/'), MqttAcl.NodePlaceholder);
            if (TopicFilter.Matches(MqttAcl.Expand(pattern, node), topic))
            {
                return at < 0 || (at < levels.Length && levels[at] == node);
            }
        }
        return false;
    }

    private JwkSet? KeyOf(string node)
    {
        if (keys.TryGetValue(node, out var cached))
        {
            return cached;
        }
        var record = core.Db(db => CoreDatabase.GetNode(db, node));
        if (record?.DataKey is not string json || !JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out var key, out _) || key.IsSymmetric)
        {
            return null;
        }
        // The stored key is bound to the node; its kid, whatever it says, is the node name.
        return keys[node] = new JwkSet([key.WithKid(node)]);
    }
}
