// Reserved node names (DESIGN §2): no node may be named after the core (core.name), any name in
// the core's server certificate (its CN and SANs), localhost or a name under it (RFC 6761 §6.3),
// or anything that parses as an IP address. A node holding such a name would hold a certificate
// for a host edges dial. `core node add` refuses them; IsReserved is there for enrollment to ask
// again, since the configuration may have changed after a node was added.
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Tapir.Config;
using Tapir.Storage;

namespace Tapir.Core.Nodes;

public sealed class NodePolicy
{
    private readonly string coreName;
    private readonly HashSet<string> serverNames = new(StringComparer.OrdinalIgnoreCase);

    public NodePolicy(string coreName, X509Certificate2 serverCertificate)
    {
        ArgumentNullException.ThrowIfNull(serverCertificate);
        this.coreName = coreName;
        serverNames.Add(serverCertificate.GetNameInfo(X509NameType.SimpleName, false));
        foreach (var san in serverCertificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            serverNames.UnionWith(san.EnumerateDnsNames());
            serverNames.UnionWith(san.EnumerateIPAddresses().Select(a => a.ToString()));
        }
    }

    /// <summary>The policy of a core state directory under its configuration (reads server.crt).</summary>
    public static NodePolicy For(CoreState state, CoreConfig config)
    {
        using var server = Pem.ReadCertificate(state.PathOf("server.crt"));
        return new NodePolicy(config.Name, server);
    }

    public bool IsReserved(string name) => ReservedBecause(name) is not null;

    /// <summary>Why the name is reserved, as a clause for an error message; null when it is not.</summary>
    public string? ReservedBecause(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return "it is localhost";
        }
        if (IPAddress.TryParse(name, out _))
        {
            return "it parses as an IP address";
        }
        if (name.Equals(coreName, StringComparison.OrdinalIgnoreCase))
        {
            return "it is the core's name (core.name)";
        }
        return serverNames.Contains(name) ? "it is a name in the core's server certificate" : null;
    }
}
