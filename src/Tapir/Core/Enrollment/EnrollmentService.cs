// POST /api/v1/node/{name}/enroll (DESIGN §4.2), checked in the order the design lists: node
// exists and awaits enrollment (404/400), secret not expired (401), HS256 by the enrollment secret
// (401, constant time), strict payload (400), timestamp within 300 s (400), data-key signature
// (401), public_key.kid is the name (403), CSR rules (400); then one transaction issues the
// certificate, stores the data key and deletes the secret.
using System.Security.Cryptography;
using Tapir.Security;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;
using Tapir.Security.Pki;
using Tapir.Storage;

namespace Tapir.Core.Enrollment;

public static class EnrollmentService
{
    public const int MaxBodyBytes = 64 * 1024;

    private static readonly IReadOnlySet<JwsAlgorithm> Hs256 = new HashSet<JwsAlgorithm> { JwsAlgorithm.HS256 };

    public static ApiResult Enroll(CoreContext core, string name, byte[] body)
    {
        var now = core.Clock.GetUtcNow();
        var node = NodeName.IsValid(name) ? core.Db(db => CoreDatabase.GetNode(db, name)) : null;
        if (node is null)
        {
            return ApiResult.Refuse(404, "unknown node");
        }
        if (node.State != "created")
        {
            return ApiResult.Refuse(400, $"node is {node.State}, not awaiting enrollment");
        }
        if (node.EnrollmentExpires is not long expires || now.ToUnixTimeSeconds() > expires || node.EnrollmentSecret is null)
        {
            return ApiResult.Refuse(401, "enrollment secret expired");
        }
        if (!JwsParser.TryParse(body, MaxBodyBytes, out var message, out var why) || message!.Serialization != JwsSerialization.General || message.Detached
            || message.Signatures.Count != 2 || message.Signatures.Count(s => s.Alg == JwsAlgorithm.HS256) != 1)
        {
            return ApiResult.Refuse(400, $"enrollment must be a general JWS with an HS256 and a data-key signature ({(why == Rejection.None ? Rejection.Malformed : why)})");
        }
        var hmac = message.Signatures.Single(s => s.Alg == JwsAlgorithm.HS256);
        var secret = SecretKey(node.EnrollmentKid!, node.EnrollmentSecret);
        // dnstapir-cli puts only alg in each protected header, so a kid is optional; when present it must match.
        bool kidMatches = hmac.Kid is null || CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(hmac.Kid), System.Text.Encoding.UTF8.GetBytes(node.EnrollmentKid!));
        if (!JwsVerifier.TryVerifySignature(message, hmac, secret, Hs256, out why) || !kidMatches)
        {
            return ApiResult.Refuse(401, $"enrollment secret signature refused ({(kidMatches ? why : Rejection.KeyNotFound)})");
        }
        if (!EnrollmentPayload.TryParse(message.Payload, withPublicKey: true, out var payload, out string reason))
        {
            return ApiResult.Refuse(400, reason);
        }
        if (!payload!.IsFresh(now))
        {
            return ApiResult.Refuse(400, "timestamp is more than 300 s from the core's clock");
        }
        var dataSignature = message.Signatures.Single(s => s.Alg != JwsAlgorithm.HS256);
        if (!JwsVerifier.TryVerifySignature(message, dataSignature, payload.PublicKey!, JwsAlgorithms.Asymmetric, out why))
        {
            return ApiResult.Refuse(401, $"data-key signature refused ({why})");
        }
        if (payload.PublicKey!.Kid != name || dataSignature.Kid is not null && dataSignature.Kid != name)
        {
            return ApiResult.Refuse(403, "public_key.kid and the data-key signature's kid must be the node name");
        }
        if (!CsrRules.TryAuthorize(payload.CsrPem, name, core.Config.AllowP384Csr, out var csr, out reason))
        {
            return ApiResult.Refuse(400, reason);
        }
        if (Issuance.Lifetime(core, payload.Lifetime) is not TimeSpan lifetime)
        {
            return ApiResult.Refuse(400, "x509_lifetime is below one hour");
        }
        var dataKey = payload.PublicKey.Alg is null ? payload.PublicKey.WithAlg(dataSignature.Alg) : payload.PublicKey;
        var (certificate, record, pem) = Issuance.Issue(core, csr!, name, lifetime, now);
        using (certificate)
        {
            bool done = core.Db(db => CoreDatabase.CompleteEnrollment(db, name, dataKey.ToJson(), JwsAlgorithms.Name(dataKey.Alg!.Value), Thumbprint.Compute(dataKey), record, pem, now));
            if (!done)
            {
                return ApiResult.Refuse(400, "node is no longer awaiting enrollment");
            }
            core.Validator.Add(record.Serial);
            return ApiResult.Ok(Json.Object(w =>
            {
                w.WriteString("name", name);
                Issuance.WriteCertificate(w, core, certificate, pem);
                NodeDirectory.WriteConfiguration(w, core, name);
            }));
        }
    }

    private static Jwk SecretKey(string kid, byte[] secret)
    {
        string json = $$"""{"kty":"oct","kid":"{{kid}}","alg":"HS256","k":"{{Base64Url.Encode(secret)}}"}""";
        return JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out var key, out _) ? key! : throw new InvalidOperationException("stored enrollment secret is not a key");
    }
}
