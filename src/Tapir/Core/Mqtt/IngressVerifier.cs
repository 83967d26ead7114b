// Enforcement at ingress (DESIGN §2, §6.3, §6.4): a message an edge publishes must be a JWS
// (compact, flattened or general) whose every signature verifies with that edge's data key from
// the nodes table, under an asymmetric algorithm equal to the key's, with `kid` in the protected
// header (covered by the signature, where tapir and edm put it) and `kid` = the node = the
// certificate's node = the topic's node segment (the level where the matched edge_publish pattern
// has `{node}`). Anything else is refused with the library's reason. A node's parsed data key (its
// JWS policy) and expanded publish patterns are kept: the data key is fixed at enrollment (node names
// are never reused), and what is kept of a removed node is dropped when its sessions are.
using System.Collections.Concurrent;
using Tapir.Core.Enrollment;
using Tapir.Security;
using Tapir.Security.Jose;
using Tapir.Security.Mqtt;
using Tapir.Storage;

namespace Tapir.Core.Mqtt;

public sealed class IngressVerifier(CoreContext core)
{
    /// <summary>What a node's messages are checked against: its expanded publish patterns (with the level
    /// that names the node, or -1) and the JWS policy of its data key.</summary>
    private sealed record NodeRules((string Filter, int NodeLevel)[] Publish, JwsPolicy Policy);

    private readonly ConcurrentDictionary<string, NodeRules> rules = new(StringComparer.Ordinal);

    /// <summary>Null when the message is acceptable, else the reason it is refused.</summary>
    public string? Refusal(string node, string topic, ReadOnlyMemory<byte> payload)
    {
        var known = RulesOf(node);
        if (!TopicNamesNode(known?.Publish ?? PublishPatterns(node), node, topic))
        {
            return "the topic's node segment is not the publishing node";
        }
        if (known is null)
        {
            return $"{Rejection.KeyNotFound}: node has no data key";
        }
        var policy = known.Policy;
        if (!JwsParser.TryParse(payload, policy.MaxBytes, out var message, out var why))
        {
            return $"{why}: not a JWS";
        }
        if (message.Signatures.Any(s => s.Kid != node))
        {
            return $"{Rejection.NameMismatch}: kid is not the node";
        }
        if (!message.Signatures.All(s => KidIsProtected(s.ProtectedB64)))
        {
            return $"{Rejection.Malformed}: kid is not in the protected header";
        }
        return JwsVerifier.TryVerify(message, policy, out _, out why) ? null : why.ToString();
    }

    /// <summary>Whether the protected header (already parsed and found strict by JwsParser) has a string `kid`.</summary>
    private static bool KidIsProtected(string protectedB64)
    {
        if (!Security.Encoding.Base64Url.TryDecode(protectedB64, out byte[] json))
        {
            return false;
        }
        using var header = System.Text.Json.JsonDocument.Parse(json);
        return header.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
            && header.RootElement.TryGetProperty("kid", out var kid) && kid.ValueKind == System.Text.Json.JsonValueKind.String;
    }

    /// <summary>Drops what is kept of a node (called when it is removed).</summary>
    public void Forget(string node) => rules.TryRemove(node, out _);

    private static bool TopicNamesNode((string Filter, int NodeLevel)[] patterns, string node, string topic)
    {
        foreach (var (filter, at) in patterns)
        {
            if (TopicFilter.Matches(filter, topic))
            {
                return at < 0 || Level(topic, at).SequenceEqual(node);
            }
        }
        return false;
    }

    /// <summary>Level <paramref name="index"/> of the topic, or empty when it has fewer levels.</summary>
    private static ReadOnlySpan<char> Level(string topic, int index)
    {
        var rest = topic.AsSpan();
        for (int i = 0; i < index; i++)
        {
            int slash = rest.IndexOf('/');
            if (slash < 0)
            {
                return [];
            }
            rest = rest[(slash + 1)..];
        }
        int end = rest.IndexOf('/');
        return end < 0 ? rest : rest[..end];
    }

    private (string Filter, int NodeLevel)[] PublishPatterns(string node) =>
        [.. core.Config.MqttAcl.EdgePublish.Select(p => (MqttAcl.Expand(p, node), Array.IndexOf(p.Split('/'), MqttAcl.NodePlaceholder)))];

    private NodeRules? RulesOf(string node)
    {
        if (rules.TryGetValue(node, out var cached))
        {
            return cached;
        }
        var record = core.Db(db => CoreDatabase.GetNode(db, node));
        if (record?.DataKey is not string json || !JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out var key, out _) || key.IsSymmetric)
        {
            return null;
        }
        // The stored key is bound to the node; its kid, whatever it says, is the node name.
        return rules[node] = new NodeRules(PublishPatterns(node), new JwsPolicy(JwsAlgorithms.Asymmetric, new JwkSet([key.WithKid(node)])));
    }
}
