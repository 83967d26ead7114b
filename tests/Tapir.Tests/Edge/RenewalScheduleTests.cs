// When the agent renews (DESIGN §4.3): at two thirds of the certificate's lifetime, made earlier
// by a random jitter of at most 5% of the lifetime so a fleet enrolled together spreads out.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapir.Edge.Renew;

namespace Tapir.Tests.Edge;

public sealed class RenewalScheduleTests
{
    [Fact]
    public void DueAtTwoThirdsWithBoundedJitter()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var notBefore = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        using var certificate = new CertificateRequest("CN=edge1.example.net", key, HashAlgorithmName.SHA256).CreateSelfSigned(notBefore, notBefore.AddDays(30));
        var twoThirds = notBefore.AddDays(20);
        var seen = new HashSet<DateTimeOffset>();
        for (int i = 0; i < 200; i++)
        {
            var due = Renewer.DueAt(certificate);
            Assert.InRange(due, twoThirds - TimeSpan.FromDays(1.5), twoThirds);
            seen.Add(due);
        }
        Assert.True(seen.Count > 100, "the jitter should spread renewals");
    }
}
