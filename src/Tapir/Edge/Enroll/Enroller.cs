// `tapir edge enroll` (DESIGN §4.2): pins the core's CA by ca_fingerprint, makes the P-256 TLS key
// and CSR and the data key, posts the two-signature enrollment JWS, and writes the state
// directory atomically. Refuses an enrolled state unless forced.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tapir.Core.Enrollment;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;
using Tapir.Security.Pki;
using Tapir.Storage;

namespace Tapir.Edge.Enroll;

public sealed record Credentials(string Name, Jwk Secret, Uri NodemanUrl, string CaFingerprint);

public static class Enroller
{
    public static Credentials ReadCredentials(string path)
    {
        byte[] bytes = PrivateKeyFile.Read(path);
        if (!StrictJson.TryParse(bytes, out var doc, out var why))
        {
            throw new TapirException($"{path}: not JSON ({why}).");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (!root.TryGetProperty("name", out var name) || !root.TryGetProperty("key", out var key) || !root.TryGetProperty("nodeman_url", out var url)
                || !root.TryGetProperty("ca_fingerprint", out var fingerprint) || !JwkParser.TryParse(key, out var secret, out why) || !secret.IsSymmetric
                || !NodeName.IsValid(name.GetString()) || !Uri.TryCreate(url.GetString(), UriKind.Absolute, out var nodeman))
            {
                throw new TapirException($"{path}: not a tapir credentials file (name, key, nodeman_url, ca_fingerprint).");
            }
            return new Credentials(name.GetString()!, secret, nodeman, fingerprint.GetString()!);
        }
    }

    public static async Task<string> EnrollAsync(Credentials credentials, EdgeState state, JwsAlgorithm alg, string? curve, bool force, TimeProvider clock, CancellationToken cancel)
    {
        if (state.IsEnrolled && !force)
        {
            throw new TapirException($"{state.Directory} is already enrolled; use --force to enroll again.");
        }
        Directory.CreateDirectory(state.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var root = await CoreClient.FetchPinnedRootAsync(credentials.NodemanUrl, credentials.CaFingerprint, cancel).ConfigureAwait(false);
        using var tlsKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var dataKey = JwkGenerator.Generate(alg, curve, credentials.Name);
        string payload = Json.Object(w =>
        {
            w.WriteString("timestamp", clock.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("x509_csr", Csr(credentials.Name, tlsKey));
            Json.WriteRaw(w, "public_key", dataKey.PublicKey().ToJson());
        });
        string jws = JwsSigner.General(System.Text.Encoding.UTF8.GetBytes(payload), [credentials.Secret, dataKey]);
        using var client = CoreClient.Create(credentials.NodemanUrl, root);
        using var response = await client.PostAsync($"api/v1/node/{credentials.Name}/enroll", new StringContent(jws, System.Text.Encoding.UTF8, "application/jose+json"), cancel).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new TapirException($"enrollment refused: {(int)response.StatusCode} {body.Trim()}");
        }
        using var doc = JsonDocument.Parse(body);
        var r = doc.RootElement;
        string certificatePem = r.GetProperty("x509_certificate").GetString()!;
        CoreClient.CheckIssued(certificatePem, credentials.Name, tlsKey, root);
        Pem.WriteKey(state.PathOf("tls.key"), tlsKey);
        AtomicFile.WriteText(state.PathOf("tls.crt"), certificatePem, AtomicFile.PublicMode);
        Pem.WriteCertificate(state.PathOf("ca.crt"), root);
        PrivateKeyFile.Write(state.PathOf("datakey.jwk"), System.Text.Encoding.UTF8.GetBytes(dataKey.ToJson(includePrivate: true) + "\n"));
        AtomicFile.WriteText(state.PathOf("trusted.jwks"), r.GetProperty("trusted_jwks").GetRawText() + "\n", AtomicFile.PublicMode);
        string bootstrap = Json.Object(w =>
        {
            foreach (var member in r.EnumerateObject().Where(m => !m.Name.StartsWith("x509_", StringComparison.Ordinal)))
            {
                member.WriteTo(w);
            }
        });
        AtomicFile.WriteText(state.PathOf("bootstrap.json"), bootstrap + "\n", AtomicFile.PublicMode);
        return $"enrolled {credentials.Name} with {credentials.NodemanUrl}: certificate serial {r.GetProperty("x509_certificate_serial_number").GetString()}, " +
            $"valid until {r.GetProperty("x509_certificate_not_valid_after").GetString()}; data key {JwsAlgorithms.Name(dataKey.Alg!.Value)}{(dataKey.Curve is null ? "" : " " + dataKey.Curve)} " +
            $"(thumbprint {Thumbprint.Compute(dataKey)}); state in {state.Directory}";
    }

    public static string Csr(string name, ECDsa key)
    {
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequestPem();
    }
}
