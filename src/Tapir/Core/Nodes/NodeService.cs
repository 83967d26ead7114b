// The node lifecycle (DESIGN §1, §2, §4.1): add (a valid, unreserved, new name; a random 32-byte
// HS256 enrollment secret that expires; the credentials document), list, show, and remove (state
// `removed`, every certificate revoked, the secret dropped, its stored configuration deleted and
// a clearing of its retained configuration queued (NodeConfigurations.Drop), in one transaction). It works on the
// database directly, whether or not `core serve` runs; a running server applies a removal within
// 2 seconds. The CLI only parses arguments and prints what this returns.
using System.Security.Cryptography;
using Tapir.Config;
using Tapir.Core.Enrollment;
using Tapir.Security.Encoding;
using Tapir.Security.Pki;
using Tapir.Storage;

namespace Tapir.Core.Nodes;

public sealed record AddedNode(string Name, string Credentials, DateTimeOffset SecretExpires);

public sealed record NodeSummary(NodeRecord Node, long? CertificateExpires);

public sealed record NodeDetails(NodeRecord Node, IReadOnlyList<CertificateRecord> Certificates);

public sealed class NodeService(CoreState state, CoreConfig config, TimeProvider clock)
{
    private NodePolicy? policy;

    /// <summary>The reserved-name policy, read from server.crt when first needed.</summary>
    public NodePolicy Policy => policy ??= NodePolicy.For(state, config);

    /// <summary>
    /// Creates the node in state `created` and hands its credentials (DESIGN §4.1) to
    /// <paramref name="deliver"/> (a file, stdout). The node is committed only once they are
    /// delivered: if writing them fails, no node exists and the name stays free.
    /// </summary>
    public AddedNode Add(string name, TimeSpan? secretLifetime, Action<AddedNode> deliver)
    {
        ArgumentNullException.ThrowIfNull(deliver);
        if (!NodeName.IsValid(name))
        {
            throw new TapirException($"'{name}' is not a lower-case DNS name.") { ExitCode = ExitCodes.Usage };
        }
        if (Policy.ReservedBecause(name) is string why)
        {
            throw new TapirException($"'{name}' is reserved: {why}; a node may not be named like the core.");
        }
        var now = clock.GetUtcNow();
        var expires = now + (secretLifetime ?? config.EnrollmentSecretLifetime);
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        try
        {
            string kid = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            using var db = state.OpenDatabase();
            using var transaction = db.BeginTransaction();
            if (CoreDatabase.GetNode(db, name) is not null)
            {
                throw new TapirException($"node {name} already exists.");
            }
            CoreDatabase.AddNode(db, transaction, name, kid, secret, now, expires);
            var added = new AddedNode(name, Credentials(name, kid, secret) + "\n", expires);
            deliver(added);
            transaction.Commit();
            return added;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    public IReadOnlyList<NodeSummary> List()
    {
        using var db = state.OpenDatabase();
        return [.. CoreDatabase.ListNodes(db).Select(n => new NodeSummary(n,
            CoreDatabase.Certificates(db, n.Name).Where(c => c.RevokedAt is null).Select(c => (long?)c.NotAfter).Max()))];
    }

    public NodeDetails Show(string name)
    {
        using var db = state.OpenDatabase();
        var node = CoreDatabase.GetNode(db, name) ?? throw new TapirException($"node {name} does not exist.");
        return new NodeDetails(node, CoreDatabase.Certificates(db, node.Name));
    }

    /// <summary>Marks the node removed and revokes all its certificates, in one transaction.</summary>
    public void Remove(string name)
    {
        using var db = state.OpenDatabase();
        var now = clock.GetUtcNow();
        if (!CoreDatabase.RemoveNode(db, name, now, tx => NodeConfigurations.Drop(db, tx, name, now)))
        {
            throw new TapirException(CoreDatabase.GetNode(db, name) is null ? $"node {name} does not exist." : $"node {name} is already removed.");
        }
    }

    private string Credentials(string name, string kid, byte[] secret) => Json.Object(w =>
    {
        w.WriteString("name", name);
        w.WriteStartObject("key");
        w.WriteString("kty", "oct");
        w.WriteString("kid", kid);
        w.WriteString("alg", "HS256");
        w.WriteString("k", Base64Url.Encode(secret));
        w.WriteEndObject();
        w.WriteString("nodeman_url", config.PublicUrl.OriginalString);
        w.WriteString("ca_fingerprint", state.CaFingerprint);
    });
}
