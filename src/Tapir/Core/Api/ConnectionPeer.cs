// The mTLS peer of a request (DESIGN §3, §4): the client certificate was validated in full at the
// TLS handshake; the identity validated for the first request is kept in the connection's own items
// (Kestrel's IConnectionItemsFeature, one dictionary per TCP connection, under a key object only this
// class holds, and only for the very certificate object that connection presented), so each later
// request on a kept-alive connection re-checks just the live serial set and the validity period
// (PeerValidator.IsStillLive). A removed node's kept-alive connection is therefore still refused
// within the serial set's refresh interval.
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Tapir.Core.Ca;
using Tapir.Security;

namespace Tapir.Core.Api;

public static class ConnectionPeer
{
    private static readonly object Key = new();

    /// <summary>The connection's items, or null when the server offers none (then every request validates in full).</summary>
    public static IDictionary<object, object?>? ItemsOf(HttpContext context) => context.Features.Get<IConnectionItemsFeature>()?.Items;

    public static bool TryNodeOf(PeerValidator validator, HttpContext context, X509Certificate2 certificate, [NotNullWhen(true)] out string? node, out Rejection why)
    {
        var items = ItemsOf(context);
        if (items is not null && items.TryGetValue(Key, out object? kept) && kept is LiveIdentity identity && ReferenceEquals(identity.Certificate, certificate))
        {
            node = validator.IsStillLive(identity, out why) ? identity.Node : null;
            return node is not null;
        }
        if (!validator.TryIdentityOf(certificate, out var validated, out why))
        {
            node = null;
            return false;
        }
        if (items is not null)
        {
            items[Key] = validated;
        }
        node = validated.Node;
        return true;
    }
}
