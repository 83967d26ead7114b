// Replacing a private key and its certificate as one step (DESIGN §4.3, §7), for the edge's TLS
// pair and the core's server pair alike. The writer puts both whole beside the old ones as
// <key>.next and <certificate>.next (each written atomically), then calls Finish, which renames the
// key, then the certificate. Finish also rolls forward whatever a crash interrupted: both .next
// files: start over; a certificate.next that fits the key in place: the key was renamed, finish;
// anything else left over (a key without its certificate, a certificate for another key) is an
// unfinished write, removed, so the old pair stands.
using System.Security.Cryptography.X509Certificates;

namespace Tapir.Storage;

public static class KeyPairSwap
{
    public static void Finish(string keyPath, string certificatePath)
    {
        string keyNext = keyPath + ".next", certificateNext = certificatePath + ".next";
        if (!File.Exists(keyNext) && !File.Exists(certificateNext))
        {
            return;
        }
        if (File.Exists(keyNext) && File.Exists(certificateNext))
        {
            File.Move(keyNext, keyPath, overwrite: true);
        }
        if (File.Exists(certificateNext) && !File.Exists(keyNext) && File.Exists(keyPath) && KeyFits(keyPath, certificateNext))
        {
            File.Move(certificateNext, certificatePath, overwrite: true);
        }
        File.Delete(keyNext);
        File.Delete(certificateNext);
        Posix.FsyncDirectory(Path.GetDirectoryName(Path.GetFullPath(keyPath))!);
    }

    private static bool KeyFits(string keyPath, string certificatePath)
    {
        using var key = Pem.ReadKey(keyPath);
        using var certificate = Pem.ReadCertificate(certificatePath);
        using var publicKey = certificate.GetECDsaPublicKey();
        return publicKey is not null && publicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo());
    }
}
