// Who may connect to the embedded broker and what each peer may do (DESIGN §2, §3, §6.1, §6.2):
// the TLS client certificate must be a live tapir identity (PeerValidator, as for the API; its chain
// is built once, at the handshake, and the CONNECT re-checks the live serial set and validity), the
// node name it carries is the peer's identity, the client id must be that name or start with
// `<name>-` and may not be one another node's session holds, and no user name or password is
// taken. Subscriptions and publishes go through the ACL (Tapir.Security.Mqtt.MqttAcl). Every
// refusal is logged with node, topic and reason and counted. MQTTnet hands every handler the same
// Response object: a refusal code is only ever set over a success, never over another refusal.
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Tapir.Core.Ca;
using Tapir.Core.Enrollment;
using Tapir.Logging;
using Tapir.Metrics;
using Tapir.Security;
using Tapir.Security.Mqtt;

namespace Tapir.Core.Mqtt;

/// <summary>A connected peer as the broker knows it: node name, certificate serial, core role or edge.</summary>
public sealed record MqttPeer(string Node, string Serial, bool CoreRole);

public sealed class BrokerAccess(CoreContext core)
{
    /// <summary>The SessionItems key under which a client session's MqttPeer is kept.</summary>
    public const string PeerKey = "tapir.peer";

    private readonly MqttAcl acl = new(core.Config.MqttAcl);

    // The identity the TLS handshake validated, for the very certificate object that connection presented
    // (MQTTnet hands the same object to the CONNECT check); it lives as long as that object.
    private readonly ConditionalWeakTable<X509Certificate, LiveIdentity> handshakes = new();
    private long refusals;

    /// <summary>Client id to the peer whose session it is; a client id belongs to one node until its session is deleted.</summary>
    public ConcurrentDictionary<string, MqttPeer> Sessions { get; } = new(StringComparer.Ordinal);

    public long Refusals => Interlocked.Read(ref refusals);

    public MqttAcl Acl => acl;

    /// <summary>Counts a refusal made outside this class (BrokerListener, PacketLimitChannel), which logs it.</summary>
    public void CountRefusal() => Interlocked.Increment(ref refusals);

    /// <summary>The TLS handshake's check: a live tapir identity, or no handshake.</summary>
    public bool AcceptCertificate(X509Certificate? presented)
    {
        var certificate = presented as X509Certificate2;
        if (core.Validator.TryIdentityOf(certificate, out var identity, out var why))
        {
            handshakes.AddOrUpdate(certificate!, identity);
            return true;
        }
        Interlocked.Increment(ref refusals);
        Log.Warning($"MQTT TLS handshake refused: client certificate {certificate?.Subject ?? "(none)"} is not a live tapir identity ({why})");
        return false;
    }

    public Task ValidateConnection(ValidatingConnectionEventArgs e)
    {
        string? refusal = Refusal(e, out var code);
        if (refusal is not null)
        {
            e.ReasonCode = code;
            Interlocked.Increment(ref refusals);
            Log.Warning($"MQTT connect refused: client id '{e.ClientId}' from {e.RemoteEndPoint}: {refusal}");
        }
        return Task.CompletedTask;
    }

    private string? Refusal(ValidatingConnectionEventArgs e, out MqttConnectReasonCode code)
    {
        code = MqttConnectReasonCode.NotAuthorized;
        if (!TryNodeOf(e.ClientCertificate, out string? node, out var why))
        {
            return $"client certificate is not a live tapir identity ({why})";
        }
        if (!string.IsNullOrEmpty(e.UserName) || e.RawPassword is { Length: > 0 })
        {
            code = MqttConnectReasonCode.BadUserNameOrPassword;
            return $"node {node} sent a user name or password; the identity is the client certificate alone";
        }
        if (e.ClientId is not string id || !(id == node || id.StartsWith(node + "-", StringComparison.Ordinal)))
        {
            code = MqttConnectReasonCode.ClientIdentifierNotValid;
            return $"node {node} may only use client id '{node}' or '{node}-…'";
        }
        if (id != node && core.Db(db => Storage.CoreDatabase.GetNode(db, id)) is not null)
        {
            // `<node>-…` is also a valid node name: a client id that names another node is that node's alone.
            code = MqttConnectReasonCode.ClientIdentifierNotValid;
            return $"client id '{id}' is the name of another node";
        }
        var peer = new MqttPeer(node, e.ClientCertificate!.SerialNumber, core.Config.CoreRoles.Contains(node));
        var holder = Sessions.AddOrUpdate(id, peer, (_, old) => old.Node == node ? peer : old);
        if (holder != peer)
        {
            return $"client id '{id}' is held by the session of node {holder.Node}";
        }
        e.SessionItems[PeerKey] = peer;
        return null;
    }

    /// <summary>The CONNECT check of the certificate: the handshake's chain validation is kept, the live
    /// serial set and the validity period are checked again (a node removed since is refused).</summary>
    private bool TryNodeOf(X509Certificate2? certificate, [NotNullWhen(true)] out string? node, out Rejection why)
    {
        if (certificate is not null && handshakes.TryGetValue(certificate, out var identity))
        {
            node = core.Validator.IsStillLive(identity, out why) ? identity.Node : null;
            return node is not null;
        }
        return core.Validator.TryNodeOf(certificate, out node, out why);
    }

    public Task InterceptSubscription(InterceptingSubscriptionEventArgs e)
    {
        string filter = e.TopicFilter.Topic;
        if (e.SessionItems[PeerKey] is not MqttPeer peer)
        {
            Refuse(e, "(unknown)", filter, "no tapir identity on the session");
        }
        else if (filter.Contains('\uFFFD', StringComparison.Ordinal))
        {
            Refuse(e, peer.Node, filter, "Malformed: the filter is not valid UTF-8");
        }
        else if (!acl.TryAuthorizeSubscribe(peer.Node, peer.CoreRole, filter, out var why))
        {
            Refuse(e, peer.Node, filter, why.ToString());
        }
        return Task.CompletedTask;
    }

    /// <summary>The publish ACL; on refusal the message is not processed and the PUBACK says not authorized.</summary>
    public bool AuthorizePublish(InterceptingPublishEventArgs e, MqttPeer peer)
    {
        var message = e.ApplicationMessage;
        if (!core.Validator.IsLive(peer.Serial))
        {
            // A removed or revoked node's last messages (its will above all) are not accepted after the removal.
            RefusePublish(e, peer.Node, "CertificateRevoked: the node's certificate is no longer live");
            return false;
        }
        if (message.Topic.Contains('\uFFFD', StringComparison.Ordinal))
        {
            // The decoder replaced bytes that are not UTF-8: different raw topics would meet in one.
            RefusePublish(e, peer.Node, "Malformed: the topic is not valid UTF-8");
            return false;
        }
        if (acl.TryAuthorizePublish(peer.Node, peer.CoreRole, message.Topic, message.Retain, out var why))
        {
            return true;
        }
        RefusePublish(e, peer.Node, why == Security.Rejection.AclDenied && message.Retain ? "AclDenied (retained publish, or topic not allowed)" : why.ToString());
        return false;
    }

    public void RefusePublish(InterceptingPublishEventArgs e, string node, string reason)
    {
        e.ProcessPublish = false;
        if (e.Response.ReasonCode == MqttPubAckReasonCode.Success)
        {
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
        }
        Interlocked.Increment(ref refusals);
        CountRefusedPublish(node, e.ApplicationMessage.Topic, reason);
    }

    /// <summary>Counts and logs one refused edge message (the embedded broker's and the external ingress's one format).</summary>
    public static void CountRefusedPublish(string node, string topic, string reason)
    {
        // The metric's reason is the Rejection's name alone (bounded); the log line has the detail.
        TapirMetrics.MqttMessages.Add(1, TapirMetrics.Outcome("refused"), TapirMetrics.Reason(reason.Split(':', ' ')[0]));
        // Through the bounded refusal writer: a flood of bad messages cannot flood the log.
        Log.Refusal($"MQTT publish refused: node {node} topic '{Printable(topic)}': {reason}");
    }

    private void Refuse(InterceptingSubscriptionEventArgs e, string node, string filter, string reason)
    {
        e.ProcessSubscription = false;
        if (e.Response.ReasonCode <= MqttSubscribeReasonCode.GrantedQoS2)
        {
            e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
        }
        Interlocked.Increment(ref refusals);
        Log.Warning($"MQTT subscribe refused: node {node} filter '{Printable(filter)}': {reason}");
    }

    /// <summary>A topic as it may stand in one log line: at most 200 characters, control characters escaped.</summary>
    public static string Printable(string? topic)
    {
        if (topic is null)
        {
            return "";
        }
        string shown = topic.Length > 200 ? topic[..200] + $"…({topic.Length} chars)" : topic;
        return string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
