// Reading and writing the PEM files of a state directory: certificates, PKCS#8 EC keys (0600).
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tapir.Storage;

public static class Pem
{
    public static void WriteKey(string path, ECDsa key) =>
        PrivateKeyFile.Write(path, System.Text.Encoding.ASCII.GetBytes(key.ExportPkcs8PrivateKeyPem() + "\n"));

    public static void WriteCertificate(string path, X509Certificate2 certificate) =>
        AtomicFile.WriteText(path, certificate.ExportCertificatePem() + "\n", AtomicFile.PublicMode);

    public static ECDsa ReadKey(string path)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(System.Text.Encoding.ASCII.GetString(PrivateKeyFile.Read(path)));
            return key;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new TapirException($"{path} does not hold an EC private key in PEM.");
        }
    }

    public static X509Certificate2 ReadCertificate(string path)
    {
        if (!File.Exists(path))
        {
            throw new TapirException($"{path} does not exist.");
        }
        try
        {
            return X509Certificate2.CreateFromPem(File.ReadAllText(path));
        }
        catch (CryptographicException)
        {
            throw new TapirException($"{path} does not hold a PEM certificate.");
        }
    }

    /// <summary>A certificate with its private key, usable for TLS (server or client side).</summary>
    public static X509Certificate2 ReadCertificateWithKey(string certificatePath, string keyPath)
    {
        using var certificate = ReadCertificate(certificatePath);
        using var key = ReadKey(keyPath);
        using var withKey = certificate.CopyWithPrivateKey(key);
        // A PKCS#12 round trip gives a certificate whose key SslStream can use on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
