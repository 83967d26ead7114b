// The CRL number (RFC 5280 §5.2.3) is monotonically increasing: a counter stored in the core
// database, so two CRLs signed within one second never share a number (a Unix-seconds number did).
using System.Numerics;
using System.Security.Cryptography.X509Certificates;
using Tapir.Storage;
using Tapir.Tests.Core;

namespace Tapir.Tests.Storage;

public sealed class CrlNumberTests
{
    [Fact]
    public async Task CrlsFetchedWithinOneSecondHaveIncreasingNumbers()
    {
        using var core = new CoreProcess();
        core.Start();
        string edge = core.File("edge");
        var enrolled = core.Tapir("edge", "enroll", "--credentials", core.AddNode("edge1.example.net"), "--state", edge);
        Assert.True(enrolled.ExitCode == 0, enrolled.Stderr);
        using var identity = Pem.ReadCertificateWithKey(Path.Combine(edge, "tls.crt"), Path.Combine(edge, "tls.key"));
        using var client = EnrollmentClient.Client(core, identity);
        var numbers = new List<BigInteger>();
        var started = DateTimeOffset.UtcNow;
        for (int i = 0; i < 5; i++)
        {
            byte[] crl = await client.GetByteArrayAsync("api/v1/crl");
            CertificateRevocationListBuilder.Load(crl, out BigInteger number);
            numbers.Add(number);
        }
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(5));
        for (int i = 1; i < numbers.Count; i++)
        {
            Assert.True(numbers[i] > numbers[i - 1], $"CRL numbers {string.Join(", ", numbers)}");
        }
        // openssl reads the same number from the last CRL, and it verifies against the root.
        File.WriteAllBytes(core.File("last.crl"), await client.GetByteArrayAsync("api/v1/crl"));
        var text = Run.Process("openssl", ["crl", "-inform", "DER", "-in", core.File("last.crl"), "-noout", "-crlnumber", "-CAfile", Path.Combine(core.StateDir, "ca.crt")]);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("verify OK", text.Stderr + text.Stdout);
        Assert.Contains($"crlNumber=0x{(numbers[^1] + 1).ToString("X", System.Globalization.CultureInfo.InvariantCulture).TrimStart('0')}", text.Stdout);
    }

    [Fact]
    public void TheStoredCounterRisesByOneAndNeverFallsBelowTheFloor()
    {
        using var dir = new TempDir();
        string path = dir.File(CoreDatabase.FileName);
        using (var db = CoreDatabase.Open(path))
        {
            Assert.Equal(1_800_000_000, CoreDatabase.NextCrlNumber(db, 1_800_000_000));
            Assert.Equal(1_800_000_001, CoreDatabase.NextCrlNumber(db, 1_800_000_000));
            Assert.Equal(1_800_000_002, CoreDatabase.NextCrlNumber(db, 1_700_000_000)); // the clock went back: still up
            Assert.Equal(1_900_000_000, CoreDatabase.NextCrlNumber(db, 1_900_000_000));
        }
        using var reopened = CoreDatabase.Open(path);
        Assert.Equal(1_900_000_001, CoreDatabase.NextCrlNumber(reopened, 0));
    }
}
