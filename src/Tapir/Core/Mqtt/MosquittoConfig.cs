// The text of an external Mosquitto 2.0's configuration (DESIGN §6.6): mosquitto.conf and the ACL
// file carrying the broker rules of §6.2. Pure: `tapir core mosquitto-config` (Cli/MosquittoConfigCommand.cs)
// reads the configuration and the core state and writes the files.
//
// How the ACL maps onto mosquitto 2.0's acl_file (src/security_default.c, checked against the real
// broker by tests/Tapir.Tests/Mqtt/MosquittoConfigTests.cs):
// - mosquitto checks a client's own `user` block first (its `topic deny` lines, then the rest) and
//   returns at the first match; only then the `pattern` lines, deny patterns first. Patterns apply
//   to every user, the ones with a block too.
// - Edges have no block: their rules are patterns with `%u` (the certificate's CN, the node name)
//   for {node}; publish rules are `write`, subscribe rules `read`; mqtt.deny is `pattern deny`.
// - Core roles get a block with their rules ({node} = the role's name) after a `topic deny` for
//   every mqtt.deny filter (deny wins, as in the embedded broker). As patterns reach them too, each
//   edge rule put in for the role's own name that none of the role's rules touch is denied in its
//   block; one that a role rule overlaps cannot be denied without taking that access away, and is
//   named in a comment.
// - The core's own certificate name gets `topic write #` (it holds the CA key, and `tapir core
//   publish` takes any topic) and `topic read` of the edges' up topics it verifies.
// - mosquitto 2.0's acl_file does not check SUBSCRIBE: every filter is granted, and `read` is
//   checked for each message delivered. Whatever an edge subscribes to, it receives only what its
//   read rules allow.
using System.Globalization;
using System.Text;
using Tapir.Security.Mqtt;

namespace Tapir.Core.Mqtt;

public sealed record MosquittoSettings(
    string GeneratedFrom,
    DateTimeOffset GeneratedAt,
    string ListenHost,
    int ListenPort,
    string Directory,
    string DataDirectory,
    int MaxPacketBytes);

public static class MosquittoConfig
{
    public const string ConfFile = "mosquitto.conf";
    public const string AclFile = "acl";
    public const string CrlFile = "crl.pem";
    public const string CaFile = "ca.crt";
    public const string CertificateFile = "server.crt";
    public const string KeyFile = "server.key";

    /// <summary>Topics the core reads in external mode: the edges' up topics it verifies.</summary>
    public static readonly IReadOnlyList<string> CoreReads = ["events/up/#", "status/up/#"];

    /// <summary>mosquitto's max_queued_messages in the generated configuration.</summary>
    public const int MaxQueuedMessages = 100_000;

    public static string Conf(MosquittoSettings s)
    {
        string F(string file) => Path.Combine(s.Directory, file);
        var text = new StringBuilder();
        Header(text, s);
        text.Append(CultureInfo.InvariantCulture, $"""
            per_listener_settings false
            allow_anonymous false
            acl_file {F(AclFile)}
            max_packet_size {s.MaxPacketBytes}
            persistence true
            persistence_location {WithSlash(s.DataDirectory)}
            # Messages kept for a client that is away (mosquitto's default is 1000): in external mode
            # the core's session holds what edges publish while the core is stopped.
            max_queued_messages {MaxQueuedMessages}

            # The only listener: TLS 1.2 or later, a client certificate from the tapir root, checked
            # against the CRL; the certificate's CN (the node name) is the MQTT username.
            listener {s.ListenPort} {s.ListenHost}
            cafile {F(CaFile)}
            certfile {F(CertificateFile)}
            keyfile {F(KeyFile)}
            crlfile {F(CrlFile)}
            require_certificate true
            use_identity_as_username true
            tls_version tlsv1.2

            """);
        return text.ToString();
    }

    /// <summary>The ACL file: the rules of DESIGN §6.2 for mosquitto's acl_file (see the top of this file).</summary>
    public static string Acl(MqttAclRules rules, IReadOnlyList<string> coreRoles, string coreName, MosquittoSettings s)
    {
        foreach (string rule in rules.EdgePublish.Concat(rules.EdgeSubscribe).Concat(rules.CoreRolePublish).Concat(rules.CoreRoleSubscribe).Concat(rules.Deny))
        {
            Check(rule);
        }
        var text = new StringBuilder();
        Header(text, s);
        text.Append("# Everyone without a user block below (the edges): %u is the node name, the certificate's CN.\n");
        Lines(text, "pattern deny", rules.Deny.Select(Pattern));
        Lines(text, "pattern write", rules.EdgePublish.Select(Pattern));
        Lines(text, "pattern read", rules.EdgeSubscribe.Select(Pattern));
        foreach (string role in coreRoles.Where(r => r != coreName).Distinct(StringComparer.Ordinal))
        {
            var publish = rules.CoreRolePublish.Select(p => MqttAcl.Expand(p, role)).ToList();
            var subscribe = rules.CoreRoleSubscribe.Select(p => MqttAcl.Expand(p, role)).ToList();
            text.Append(CultureInfo.InvariantCulture, $"\n# Core role {role} (core.core_roles).\nuser {role}\n");
            Block(text, role, rules, publish, subscribe, deny: true);
        }
        text.Append(CultureInfo.InvariantCulture, $"\n# The core itself (core.name), the MQTT client of this broker.\nuser {coreName}\n");
        Block(text, coreName, rules, ["#"], [.. CoreReads], deny: false);
        return text.ToString();
    }

    private static void Block(StringBuilder text, string user, MqttAclRules rules, List<string> publish, List<string> subscribe, bool deny)
    {
        var denied = deny ? rules.Deny.Select(d => MqttAcl.Expand(d, user)).ToList() : [];
        var notEdge = new List<string>();
        var open = new List<string>();
        foreach (var (edgeRule, own) in rules.EdgePublish.Select(p => (p, publish)).Concat(rules.EdgeSubscribe.Select(p => (p, subscribe))))
        {
            string rule = MqttAcl.Expand(edgeRule, user);
            if (own.Any(p => TopicFilter.Covers(p, rule)) || denied.Any(d => TopicFilter.Covers(d, rule)))
            {
                continue; // the block grants it anyway, or denies it already
            }
            (publish.Concat(subscribe).Any(p => TopicFilter.Overlaps(p, rule)) ? open : notEdge).Add(rule);
        }
        foreach (string rule in open.Distinct(StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"# not denied (it overlaps this block's own rules), so the edge pattern grants it here too: {rule}\n");
        }
        Lines(text, "topic deny", denied.Concat(notEdge).Distinct(StringComparer.Ordinal));
        Lines(text, "topic write", publish);
        Lines(text, "topic read", subscribe);
    }

    private static void Lines(StringBuilder text, string prefix, IEnumerable<string> topics)
    {
        foreach (string topic in topics)
        {
            text.Append(CultureInfo.InvariantCulture, $"{prefix} {topic}\n");
        }
    }

    private static string Pattern(string rule) => MqttAcl.Expand(rule, "%u");

    /// <summary>
    /// Refuses what mosquitto would read differently from the embedded broker: `%` (its `%c` and `%u`
    /// substitutions), white space, and {node} that is not a whole topic level (mosquitto substitutes
    /// only whole levels, mosquitto.conf(5)).
    /// </summary>
    private static void Check(string rule)
    {
        bool partial = rule.Split('/').Any(level => level.Contains(MqttAcl.NodePlaceholder, StringComparison.Ordinal) && level != MqttAcl.NodePlaceholder);
        if (rule.Contains('%') || rule.Any(char.IsWhiteSpace) || partial)
        {
            throw new TapirException($"MQTT rule '{rule}' cannot be written as a mosquitto ACL line: "
                + "it must hold no '%' and no white space, and {node} only as a whole topic level.");
        }
    }

    private static void Header(StringBuilder text, MosquittoSettings s) =>
        text.Append(CultureInfo.InvariantCulture, $"""
            # Generated by tapir core mosquitto-config from {s.GeneratedFrom}
            # at {s.GeneratedAt.UtcDateTime:u}. Do not edit: re-run the command instead.

            """);

    private static string WithSlash(string directory) => directory.EndsWith('/') ? directory : directory + "/";
}
