// The edge's TLS pair is replaced only when the new pair is whole (issue #5): a crash at any point
// of a renewal's writes leaves either the old pair or the new one, never a key with another
// key's certificate; a failed renewal leaves the files untouched.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapir.Edge;
using Tapir.Storage;
using Tapir.Tests.Core;

namespace Tapir.Tests.Edge;

public sealed class EdgeStateTests
{
    private static (ECDsa Key, string Pem) Pair(string name)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var cert = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        return (key, cert.ExportCertificatePem());
    }

    private static EdgeState StateWith(TempDir dir, (ECDsa Key, string Pem) current)
    {
        var state = new EdgeState(dir.Path);
        Pem.WriteKey(state.PathOf("tls.key"), current.Key);
        AtomicFile.WriteText(state.PathOf("tls.crt"), current.Pem, AtomicFile.PublicMode);
        return state;
    }

    private static void AssertPairIs(EdgeState state, (ECDsa Key, string Pem) expected)
    {
        Assert.Equal(expected.Pem, File.ReadAllText(state.PathOf("tls.crt")));
        using var key = Pem.ReadKey(state.PathOf("tls.key"));
        Assert.Equal(expected.Key.ExportSubjectPublicKeyInfo(), key.ExportSubjectPublicKeyInfo());
        Assert.False(File.Exists(state.PathOf("tls.key.next")));
        Assert.False(File.Exists(state.PathOf("tls.crt.next")));
    }

    [Fact]
    public void BothNextFilesWrittenRollsForward()
    {
        using var dir = new TempDir();
        var (a, b) = (Pair("a"), Pair("b"));
        var state = StateWith(dir, a);
        Pem.WriteKey(state.PathOf("tls.key.next"), b.Key);
        AtomicFile.WriteText(state.PathOf("tls.crt.next"), b.Pem, AtomicFile.PublicMode);
        state.FinishInterruptedRenewal();
        AssertPairIs(state, b);
    }

    [Fact]
    public void CrashBetweenTheTwoRenamesRollsForward()
    {
        using var dir = new TempDir();
        var (a, b) = (Pair("a"), Pair("b"));
        var state = StateWith(dir, a);
        Pem.WriteKey(state.PathOf("tls.key"), b.Key); // the key already moved, the certificate not yet
        AtomicFile.WriteText(state.PathOf("tls.crt.next"), b.Pem, AtomicFile.PublicMode);
        state.FinishInterruptedRenewal();
        AssertPairIs(state, b);
    }

    [Fact]
    public void KeyWithoutCertificateIsDiscarded()
    {
        using var dir = new TempDir();
        var (a, b) = (Pair("a"), Pair("b"));
        var state = StateWith(dir, a);
        Pem.WriteKey(state.PathOf("tls.key.next"), b.Key);
        state.FinishInterruptedRenewal();
        AssertPairIs(state, a);
    }

    [Fact]
    public void ReplaceTlsSwapsThePair()
    {
        using var dir = new TempDir();
        var (a, b) = (Pair("a"), Pair("b"));
        var state = StateWith(dir, a);
        state.ReplaceTls(b.Key, b.Pem);
        AssertPairIs(state, b);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(state.PathOf("tls.key")));
    }

    [Fact]
    public void FailedRenewalKeepsTheOldCertificate()
    {
        using var core = new CoreProcess();
        core.Start();
        string edge = core.File("edge");
        Assert.Equal(0, core.Tapir("edge", "enroll", "--credentials", core.AddNode("keep.example.net"), "--state", edge).ExitCode);
        byte[] crt = File.ReadAllBytes(Path.Combine(edge, "tls.crt"));
        byte[] key = File.ReadAllBytes(Path.Combine(edge, "tls.key"));
        core.Stop();
        var r = core.Tapir("edge", "renew", "--state", edge, "--attempts", "2");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("renewal attempt 1 failed", r.Stderr);
        Assert.Contains("keeping the current certificate", r.Stderr);
        Assert.Equal(crt, File.ReadAllBytes(Path.Combine(edge, "tls.crt")));
        Assert.Equal(key, File.ReadAllBytes(Path.Combine(edge, "tls.key")));
        core.Start();
        Assert.Equal(0, core.Tapir("edge", "renew", "--state", edge, "--attempts", "1").ExitCode);
        Assert.NotEqual(crt, File.ReadAllBytes(Path.Combine(edge, "tls.crt")));
    }

    [Fact]
    public void FailuresAreRateLimited()
    {
        using var core = new CoreProcess();
        core.Start();
        var creds = EnrollmentClient.Read(core.AddNode("limited.example.net"));
        var wrong = creds with { Secret = Tapir.Security.Jose.JwkGenerator.Generate(Tapir.Security.Jose.JwsAlgorithm.HS256, kid: creds.Secret.Kid) };
        var key = Tapir.Security.Jose.JwkGenerator.Generate(Tapir.Security.Jose.JwsAlgorithm.EdDSA, kid: creds.Name);
        using var client = EnrollmentClient.Client(core);
        // Unauthenticated failures count per client address (50 in the window), not per named node (issue 9).
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(401, EnrollmentClient.Post(client, $"api/v1/node/{creds.Name}/enroll", EnrollmentClient.Enrollment(wrong, key)).Status);
        }
        var limited = EnrollmentClient.Post(client, $"api/v1/node/{creds.Name}/enroll", EnrollmentClient.Enrollment(creds, key));
        Assert.Equal(429, limited.Status); // even the right secret waits out the window
        Assert.Contains("too many failed attempts", limited.Body);
        core.AssertLogged("401");
    }
}
