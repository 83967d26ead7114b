// A renewal whose answer never reached the edge (DESIGN §4.3, issue 9): the core committed the new
// certificate and revoked the old one, so the edge's certificate is refused at the handshake. The
// edge must still be able to renew, authenticated by its data key alone, and must not be locked out.
using Tapir.Tests.Core;

namespace Tapir.Tests.Edge;

public sealed class LostRenewalAnswerTests
{
    [Fact]
    public void EdgeHoldingItsSupersededCertificateStillRenews()
    {
        using var core = new CoreProcess();
        string credentials = core.AddNode("edge1.example.net");
        core.Start();
        string edge = core.File("edge1");
        var enroll = core.Tapir("edge", "enroll", "--credentials", credentials, "--state", edge);
        Assert.True(enroll.ExitCode == 0, enroll.Stderr);
        byte[] oldCertificate = File.ReadAllBytes(Path.Combine(edge, "tls.crt"));
        byte[] oldKey = File.ReadAllBytes(Path.Combine(edge, "tls.key"));

        var first = core.Tapir("edge", "renew", "--state", edge, "--attempts", "1");
        Assert.True(first.ExitCode == 0, first.Stderr);
        // The answer is "lost": the edge still holds the certificate the core has just revoked.
        File.WriteAllBytes(Path.Combine(edge, "tls.crt"), oldCertificate);
        File.WriteAllBytes(Path.Combine(edge, "tls.key"), oldKey);
        Thread.Sleep(1_500); // the revocation reaches the handshake (0.5 s refresh); a later timestamp

        var second = core.Tapir("edge", "renew", "--state", edge, "--attempts", "1");
        Assert.True(second.ExitCode == 0, second.Stderr + core.LogText);
        Assert.Contains("trying once without the client certificate", second.Stderr);
        Assert.StartsWith("renewed edge1.example.net", second.Stdout);
        Assert.NotEqual(oldCertificate, File.ReadAllBytes(Path.Combine(edge, "tls.crt")));
    }
}
