// DESIGN §3, §4 end to end with the real binary over real TLS on 127.0.0.1: init, node add, edge
// enroll (files and modes), the certificate checked by openssl (chain, purpose, exact extensions),
// curl with and without a client certificate, renew, remove, and the removed node's handshake
// failing. Every data-key family enrolls.
namespace Tapir.Tests.Core;

public sealed class EnrollmentEndToEndTests
{
    private static readonly UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public void EnrollRenewRemove()
    {
        using var core = new CoreProcess();
        core.Start();
        string credentials = core.AddNode("edge1.example.net");
        Assert.Equal(Private, File.GetUnixFileMode(credentials));
        string edge = core.File("edge");
        var enrolled = core.Tapir("edge", "enroll", "--credentials", credentials, "--state", edge);
        Assert.True(enrolled.ExitCode == 0, enrolled.Stderr + core.LogText);
        Assert.StartsWith("enrolled edge1.example.net", enrolled.Stdout);
        foreach (var (file, mode) in new[] { ("tls.key", Private), ("datakey.jwk", Private), ("tls.crt", (UnixFileMode?)null), ("ca.crt", null), ("trusted.jwks", null), ("bootstrap.json", null) })
        {
            Assert.True(File.Exists(Path.Combine(edge, file)), file);
            if (mode is UnixFileMode m)
            {
                Assert.Equal(m, File.GetUnixFileMode(Path.Combine(edge, file)));
            }
        }
        string crt = Path.Combine(edge, "tls.crt"), key = Path.Combine(edge, "tls.key"), ca = Path.Combine(edge, "ca.crt");

        var verify = Run.Process("openssl", ["verify", "-CAfile", ca, "-purpose", "sslclient", crt]);
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
        Assert.Contains(": OK", verify.Stdout);
        var text = Run.Process("openssl", ["x509", "-in", crt, "-noout", "-text"]).Stdout;
        Assert.Contains("Subject: CN = edge1.example.net", text);
        Assert.Contains("X509v3 Basic Constraints: critical\n                CA:FALSE", text);
        Assert.Contains("X509v3 Key Usage: critical\n                Digital Signature\n", text);
        Assert.Contains("X509v3 Extended Key Usage: \n                TLS Web Client Authentication\n", text);
        Assert.Contains("X509v3 Subject Alternative Name: \n                DNS:edge1.example.net\n", text);
        Assert.Contains("X509v3 Subject Key Identifier:", text);
        Assert.Contains("X509v3 Authority Key Identifier:", text);
        Assert.Equal(6, text.Split("X509v3 ").Length - 2); // exactly BC, KU, EKU, SKI, AKI, SAN (the first split is the "X509v3 extensions:" header)
        var rootText = Run.Process("openssl", ["x509", "-in", ca, "-noout", "-text"]).Stdout;
        Assert.Contains("CA:TRUE, pathlen:0", rootText);
        Assert.Contains("Certificate Sign, CRL Sign", rootText);
        Assert.Contains("ASN1 OID: prime256v1", rootText);

        string url = $"https://127.0.0.1:{core.Port}/api/v1/jwks";
        var withCert = Run.Process("curl", ["-sS", "--fail", "--cacert", ca, "--cert", crt, "--key", key, url]);
        Assert.True(withCert.ExitCode == 0, withCert.Stderr);
        Assert.StartsWith("{\"keys\":[{", withCert.Stdout);
        var noCert = Run.Process("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca, url]);
        Assert.Equal("401", noCert.Stdout);

        var renewed = core.Tapir("edge", "renew", "--state", edge, "--attempts", "1");
        Assert.True(renewed.ExitCode == 0, renewed.Stderr + core.LogText);
        Assert.StartsWith("renewed edge1.example.net", renewed.Stdout);
        Assert.Equal(0, Run.Process("curl", ["-sS", "--fail", "--cacert", ca, "--cert", crt, "--key", key, url]).ExitCode);

        var list = core.Tapir("core", "node", "list");
        Assert.Matches(@"edge1\.example\.net\s+enrolled\s+EdDSA\s+\S{43}\s+\d{4}-", list.Stdout);

        Assert.Equal(0, core.Tapir("core", "node", "remove", "edge1.example.net").ExitCode);
        var removedAt = DateTime.UtcNow;
        ProcessResult refused;
        do
        {
            refused = Run.Process("curl", ["-sS", "-o", "/dev/null", "--cacert", ca, "--cert", crt, "--key", key, url]);
        }
        while (refused.ExitCode == 0 && DateTime.UtcNow - removedAt < TimeSpan.FromSeconds(3));
        Assert.True(DateTime.UtcNow - removedAt < TimeSpan.FromSeconds(2.5), "removal took effect too late");
        Assert.NotEqual(0, refused.ExitCode); // the TLS handshake itself fails
        var again = core.Tapir("edge", "renew", "--state", edge, "--attempts", "1");
        Assert.Equal(1, again.ExitCode);
        var show = core.Tapir("core", "node", "show", "edge1.example.net");
        Assert.Contains("state: removed", show.Stdout);
        Assert.Equal(2, show.Stdout.Split(", revoked").Length - 1);
    }

    [Theory]
    [InlineData("EdDSA", null)]
    [InlineData("EdDSA", "Ed448")]
    [InlineData("ES256", null)]
    [InlineData("PS256", null)]
    public void EveryDataKeyFamilyEnrolls(string alg, string? crv)
    {
        using var core = new CoreProcess();
        core.Start();
        string credentials = core.AddNode("edge2.example.net");
        var args = new List<string> { "edge", "enroll", "--credentials", credentials, "--state", core.File("edge"), "--alg", alg };
        if (crv is not null) { args.AddRange(["--crv", crv]); }
        var r = core.Tapir([.. args]);
        Assert.True(r.ExitCode == 0, r.Stderr + core.LogText);
        var show = core.Tapir("core", "node", "show", "edge2.example.net");
        Assert.Contains("state: enrolled", show.Stdout);
        Assert.Contains($"\"alg\":\"{alg}\"", show.Stdout);
        Assert.Contains("\"kid\":\"edge2.example.net\"", show.Stdout);
        if (crv is not null) { Assert.Contains($"\"crv\":\"{crv}\"", show.Stdout); }
        var renew = core.Tapir("edge", "renew", "--state", core.File("edge"), "--attempts", "1");
        Assert.True(renew.ExitCode == 0, renew.Stderr);
    }

    [Fact]
    public void InitRefusesToOverwriteAndEnrollRefusesTwice()
    {
        using var core = new CoreProcess();
        var again = core.Tapir("core", "init");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("refusing to overwrite", again.Stderr);
        core.Start();
        string credentials = core.AddNode("edge3.example.net");
        Assert.Equal(0, core.Tapir("edge", "enroll", "--credentials", credentials, "--state", core.File("e")).ExitCode);
        var twice = core.Tapir("edge", "enroll", "--credentials", credentials, "--state", core.File("e"));
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("already enrolled; use --force", twice.Stderr);
        var forced = core.Tapir("edge", "enroll", "--credentials", credentials, "--state", core.File("e"), "--force");
        Assert.Equal(1, forced.ExitCode); // the secret was single-use
        Assert.Contains("enrollment refused: 401 {\"error\":\"enrollment refused\"}", forced.Stderr);
    }
}

public sealed class CoreKeyPermissionTests
{
    [Fact]
    public void ServeRefusesAGroupReadableCaKey()
    {
        using var core = new CoreProcess();
        string key = Path.Combine(core.StateDir, "ca.key");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var r = core.Tapir("core", "serve");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"tapir: error: private key file {key} is accessible by group or others (mode 0640); run 'chmod 600 {key}'.\n", r.Stderr);
    }
}

public sealed class CoreInitTests
{
    [Fact]
    public void InitBuildsAsideAndRenamesIntoPlace()
    {
        using var dir = new TempDir();
        var r = Run.Tapir("core", "init", "--state", dir.File("core"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(["core"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir.File("core")));
        foreach (var file in new[] { "ca.key", "ca.crt", "server.key", "server.crt", "core-data.jwk", "tapir.db" })
        {
            Assert.True(File.Exists(Path.Combine(dir.File("core"), file)), file);
        }
        Directory.CreateDirectory(dir.File("busy"));
        File.WriteAllText(Path.Combine(dir.File("busy"), "notes.txt"), "mine");
        var refused = Run.Tapir("core", "init", "--state", dir.File("busy"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("refusing to overwrite", refused.Stderr);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir.File("busy"), "notes.txt")));
        Directory.CreateDirectory(dir.File("empty"));
        Assert.Equal(0, Run.Tapir("core", "init", "--state", dir.File("empty")).ExitCode);
    }
}
