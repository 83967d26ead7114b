// `tapir core renew-server-cert` through the real binary: a fresh key and certificate from the
// core CA with the same subject and SANs, a new serial, valid for TLS servers (openssl verify
// -purpose sslserver), both files replaced by rename, and `core serve` presenting it once started.
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Tapir.Tests.Core;

namespace Tapir.Tests.Cli;

public sealed class RenewServerCertTests
{
    [Fact]
    public async Task RenewsTheServerCertificateWithTheSameNames()
    {
        using var core = new CoreProcess();
        string crt = Path.Combine(core.StateDir, "server.crt"), key = Path.Combine(core.StateDir, "server.key");
        using var before = X509Certificate2.CreateFromPem(File.ReadAllText(crt));
        string oldKey = File.ReadAllText(key);
        long oldInode = Inode(key);

        var r = core.Tapir("core", "renew-server-cert");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("", r.Stderr);
        using var after = X509Certificate2.CreateFromPem(File.ReadAllText(crt));
        Assert.Matches($"^renewed the server certificate of {before.GetNameInfo(X509NameType.SimpleName, false)}: serial [0-9a-f]+, valid until .+; restart 'tapir core serve' to use it\\.\n$", r.Stdout);
        Assert.Contains(after.SerialNumber.ToLowerInvariant(), r.Stdout);

        Assert.NotEqual(before.SerialNumber, after.SerialNumber);
        Assert.Equal(before.Subject, after.Subject);
        Assert.Equal(San(before), San(after));
        Assert.True(after.NotBefore >= before.NotBefore);
        Assert.NotEqual(oldKey, File.ReadAllText(key));
        Assert.NotEqual(oldInode, Inode(key)); // a new file renamed into place, not rewritten in place
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        Assert.DoesNotContain(Directory.GetFiles(core.StateDir), f => f.EndsWith(".next", StringComparison.Ordinal) || f.EndsWith(".tmp", StringComparison.Ordinal));

        var verify = Run.Process("openssl", ["verify", "-CAfile", Path.Combine(core.StateDir, "ca.crt"), "-purpose", "sslserver", crt]);
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
        Assert.Equal($"{crt}: OK\n", verify.Stdout);
        var pub = Run.Process("openssl", ["x509", "-in", crt, "-noout", "-pubkey"]);
        var keyPub = Run.Process("openssl", ["pkey", "-in", key, "-pubout"]);
        Assert.Equal(pub.Stdout, keyPub.Stdout);

        core.Start();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", core.Port);
        using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("127.0.0.1");
        Assert.Equal(after.SerialNumber, X509CertificateLoader.LoadCertificate(tls.RemoteCertificate!.GetRawCertData()).SerialNumber);
    }

    [Fact]
    public void HelpSaysARunningServeNeedsARestart()
    {
        var r = Run.Tapir("core", "renew-server-cert", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("restart", r.Stdout);
    }

    private static string San(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().Format(false);

    private static long Inode(string path)
    {
        var r = Run.Process("stat", ["-c", "%i", path]);
        return long.Parse(r.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
