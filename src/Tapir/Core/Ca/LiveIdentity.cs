// A client certificate PeerValidator has fully validated (DESIGN §3): the node it names and what a
// later request on the same connection re-checks without rebuilding the chain: that its serial is
// still live and that it is still within its validity period (PeerValidator.IsStillLive).
using System.Security.Cryptography.X509Certificates;

namespace Tapir.Core.Ca;

public sealed record LiveIdentity(X509Certificate2 Certificate, string Node, string Serial, DateTimeOffset NotBefore, DateTimeOffset NotAfter);
