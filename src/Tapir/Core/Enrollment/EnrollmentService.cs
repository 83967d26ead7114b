// POST /api/v1/node/{name}/enroll (DESIGN §4.2). First the caller must prove it holds this node's
// enrollment secret: the node may enroll (MayEnroll) and the HS256 signature verifies in constant
// time. Every refusal up to there is the one uniform answer (WireAnswers), the detail only logged.
// Then: strict payload, timestamp within 300 s, data-key signature, public_key.kid is the name,
// CSR rules; and one transaction issues the certificate, stores the data key, deletes the secret.
using System.Security.Cryptography;
using Tapir.Core.Api;
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
        var node = MayEnroll(core, name, now, out string detail);
        if (node is null || !TryAuthenticate(node, body, out var message, out detail))
        {
            return WireAnswers.Unauthenticated(WireAnswers.EnrollmentRefused, detail);
        }
        // The caller holds this node's secret: from here a refusal says what is wrong.
        if (!EnrollmentPayload.TryParse(message.Payload, withPublicKey: true, out var payload, out var why))
        {
            return WireAnswers.Refuse(why, "payload");
        }
        if (!payload.IsFresh(now, out why))
        {
            return WireAnswers.Refuse(why, "timestamp");
        }
        var dataSignature = message.Signatures.Single(s => s.Alg != JwsAlgorithm.HS256);
        if (!JwsVerifier.TryVerifySignature(message, dataSignature, payload.PublicKey!, JwsAlgorithms.Asymmetric, out why))
        {
            return WireAnswers.Refuse(why, "data-key signature");
        }
        if (payload.PublicKey!.Kid != name || dataSignature.Kid is not null && dataSignature.Kid != name)
        {
            return WireAnswers.Refuse(Rejection.NameMismatch, "kid", "public_key or data-key signature kid is not the node name");
        }
        if (!CsrRules.TryAuthorize(payload.CsrPem, name, core.Config.AllowP384Csr, out var csr, out why))
        {
            return WireAnswers.Refuse(why, "x509_csr");
        }
        var dataKey = payload.PublicKey.Alg is null ? payload.PublicKey.WithAlg(dataSignature.Alg) : payload.PublicKey;
        var (certificate, record, pem) = Issuance.Issue(core, csr, name, Issuance.Lifetime(core, payload.Lifetime), now);
        using (certificate)
        {
            bool done = core.Db(db => CoreDatabase.CompleteEnrollment(db, name, dataKey.ToJson(), JwsAlgorithms.Name(dataKey.Alg!.Value), Thumbprint.Compute(dataKey), record, pem, now));
            if (!done)
            {
                return WireAnswers.Unauthenticated(WireAnswers.EnrollmentRefused, "node no longer awaiting enrollment (enrolled or removed meanwhile)");
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

    /// <summary>The one decision whether a name may enroll now: a node name, created, secret unexpired.
    /// Every "no" is answered like an unknown name; reserved names (DESIGN §2) are refused here too.</summary>
    private static NodeRecord? MayEnroll(CoreContext core, string name, DateTimeOffset now, out string detail)
    {
        var node = NodeName.IsValid(name) ? core.Db(db => CoreDatabase.GetNode(db, name)) : null;
        detail = node is null ? "unknown node"
            : core.Names.ReservedBecause(name) is string reserved ? $"the name is reserved: {reserved}"
            : node.State != "created" ? $"node is {node.State}, not awaiting enrollment"
            : node.EnrollmentExpires is not long expires || now.ToUnixTimeSeconds() > expires || node.EnrollmentSecret is null ? "enrollment secret expired"
            : "";
        return detail.Length == 0 ? node : null;
    }

    /// <summary>A general JWS with one HS256 signature by the node's enrollment secret and one other.</summary>
    private static bool TryAuthenticate(NodeRecord node, byte[] body, [NotNullWhen(true)] out JwsMessage? message, out string detail)
    {
        if (!JwsParser.TryParse(body, MaxBodyBytes, out message, out var why) || message.Serialization != JwsSerialization.General || message.Detached
            || message.Signatures.Count != 2 || message.Signatures.Count(s => s.Alg == JwsAlgorithm.HS256) != 1)
        {
            detail = $"not a general JWS with an HS256 and a data-key signature ({(why == Rejection.None ? Rejection.Malformed : why)})";
            return false;
        }
        var hmac = message.Signatures.Single(s => s.Alg == JwsAlgorithm.HS256);
        var secret = SecretKey(node.EnrollmentKid!, node.EnrollmentSecret!);
        // dnstapir-cli puts only alg in each protected header, so a kid is optional; when present it must match.
        bool kidMatches = hmac.Kid is null || CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(hmac.Kid), System.Text.Encoding.UTF8.GetBytes(node.EnrollmentKid!));
        if (!JwsVerifier.TryVerifySignature(message, hmac, secret, Hs256, out why) || !kidMatches)
        {
            detail = $"enrollment secret signature refused ({(kidMatches ? why : Rejection.KeyNotFound)})";
            return false;
        }
        detail = "";
        return true;
    }

    private static Jwk SecretKey(string kid, byte[] secret)
    {
        string json = $$"""{"kty":"oct","kid":"{{kid}}","alg":"HS256","k":"{{Base64Url.Encode(secret)}}"}""";
        return JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(json), out var key, out _) ? key : throw new InvalidOperationException("stored enrollment secret is not a key");
    }
}
