// PeerValidator's valid-serial set (DESIGN §3, §8.4) in-process and deterministic: a serial added
// (just issued) while a refresh was reading the database stays valid after that refresh installs
// its older snapshot; a stale snapshot never replaces a newer one; a removal still takes effect at
// the first refresh that reads the database after the Add.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapir.Core.Ca;
using Tapir.Security.Pki;

namespace Tapir.Tests.Core.Ca;

public sealed class PeerValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static (X509Certificate2 Root, X509Certificate2 Leaf) Issue(string name)
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var root = CaProfile.CreateRoot(rootKey, "test root", Now);
        return (root, CaProfile.IssueLeaf(root, rootKey, new PublicKey(key), name, LeafRole.Edge, Now, TimeSpan.FromDays(1)));
    }

    [Fact]
    public void RefreshKeepsASerialAddedWhileItsSnapshotWasRead()
    {
        var (root, leaf) = Issue("edge1.example.net");
        using (root)
        using (leaf)
        {
            var validator = new PeerValidator(root, new FixedClock(Now));
            long generation = validator.BeginRefresh();
            var snapshot = new HashSet<string>(StringComparer.Ordinal); // read before the enrollment committed
            validator.Add(leaf.SerialNumber);                             // enrollment commits, then adds
            validator.Refresh(snapshot, generation);                      // the older snapshot is installed

            Assert.Equal("edge1.example.net", validator.NodeOf(leaf));

            // The next snapshot was read after the Add, so it decides: here the node was removed.
            validator.Refresh(new HashSet<string>(StringComparer.Ordinal), validator.BeginRefresh());
            Assert.Null(validator.NodeOf(leaf));
        }
    }

    [Fact]
    public void AStaleSnapshotNeverReplacesANewerOne()
    {
        var (root, leaf) = Issue("edge2.example.net");
        using (root)
        using (leaf)
        {
            var validator = new PeerValidator(root, new FixedClock(Now));
            long older = validator.BeginRefresh();
            long newer = validator.BeginRefresh();
            validator.Refresh(new HashSet<string>(StringComparer.Ordinal) { leaf.SerialNumber }, newer);
            validator.Refresh(new HashSet<string>(StringComparer.Ordinal), older);

            Assert.Equal("edge2.example.net", validator.NodeOf(leaf));
        }
    }

    [Fact]
    public void ASerialAddedBeforeTheReadIsDecidedByTheSnapshot()
    {
        var (root, leaf) = Issue("edge3.example.net");
        using (root)
        using (leaf)
        {
            var validator = new PeerValidator(root, new FixedClock(Now));
            validator.Add(leaf.SerialNumber);
            Assert.Equal("edge3.example.net", validator.NodeOf(leaf));
            // Revoked after the Add and before this read: the snapshot lacks it and wins.
            validator.Refresh(new HashSet<string>(StringComparer.Ordinal), validator.BeginRefresh());

            Assert.Null(validator.NodeOf(leaf));
        }
    }
}
