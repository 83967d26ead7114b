// POST /api/v1/node/{name}/renew (DESIGN §4.3). First the caller must prove it is the node: the
// node is enrolled and its stored data key verifies the JWS; every refusal up to there is the one
// uniform answer (WireAnswers), the detail only logged. Then a strict payload, a fresh timestamp and
// a CSR under the same rules. A request is accepted once: its timestamp must be later than the
// node's last renewal's (kept in the database). A presented client certificate must be the same
// node. The new certificate supersedes the node's others: they are revoked when it is committed.
using Tapir.Core.Api;
using Tapir.Security;
using Tapir.Security.Jose;
using Tapir.Security.Pki;
using Tapir.Storage;

namespace Tapir.Core.Enrollment;

public static class RenewalService
{
    public static ApiResult Renew(CoreContext core, string name, byte[] body, string? clientNode)
    {
        var now = core.Clock.GetUtcNow();
        if (clientNode is not null && clientNode != name)
        {
            return WireAnswers.Refuse(Rejection.NameMismatch, "client certificate", $"it is {clientNode}'s");
        }
        if (core.Names.ReservedBecause(name) is string reserved)
        {
            return WireAnswers.Unauthenticated(WireAnswers.RenewalRefused, $"the name is reserved: {reserved}");
        }
        if (!TryAuthenticate(core, name, body, out var message, out string detail))
        {
            return WireAnswers.Unauthenticated(WireAnswers.RenewalRefused, detail);
        }
        if (!EnrollmentPayload.TryParse(message.Payload, withPublicKey: false, out var payload, out var why))
        {
            return WireAnswers.Refuse(why, "payload");
        }
        if (!payload.IsFresh(now, out why))
        {
            return WireAnswers.Refuse(why, "timestamp");
        }
        if (!CsrRules.TryAuthorize(payload.CsrPem, name, core.Config.AllowP384Csr, out var csr, out why))
        {
            return WireAnswers.Refuse(why, "x509_csr");
        }
        var (certificate, record, pem) = Issuance.Issue(core, csr, name, Issuance.Lifetime(core, payload.Lifetime), now);
        using (certificate)
        {
            var committed = core.Db(db => CoreDatabase.CompleteRenewal(db, name, payload.Timestamp.ToUnixTimeMilliseconds(), record, pem, now));
            if (committed == RenewalCommit.Replayed)
            {
                return WireAnswers.Refuse(Rejection.Replayed, "renewal", "its timestamp is not later than the last renewal's");
            }
            if (committed == RenewalCommit.NotEnrolled)
            {
                return WireAnswers.Unauthenticated(WireAnswers.RenewalRefused, "node removed meanwhile");
            }
            // The new serial is usable at once; the superseded one leaves the valid set at the next refresh
            // (0.5 s), after this response, which the edge writes before it stops using the old certificate.
            core.Validator.Add(record.Serial);
            return ApiResult.Ok(Json.Object(w => Issuance.WriteCertificate(w, core, certificate, pem)));
        }
    }

    /// <summary>The node is enrolled and the JWS (one signature) verifies with its stored data key.</summary>
    private static bool TryAuthenticate(CoreContext core, string name, byte[] body, [NotNullWhen(true)] out JwsMessage? message, out string detail)
    {
        message = null;
        var node = NodeName.IsValid(name) ? core.Db(db => CoreDatabase.GetNode(db, name)) : null;
        if (node is null || node.State != "enrolled" || node.DataKey is null)
        {
            detail = node is null ? "unknown node" : $"node is {node.State}; only enrolled nodes renew";
            return false;
        }
        if (!JwsParser.TryParse(body, EnrollmentService.MaxBodyBytes, out message, out var why) || message.Signatures.Count != 1 || message.Detached)
        {
            detail = $"not a JWS with one signature ({(why == Rejection.None ? Rejection.TooManySignatures : why)})";
            return false;
        }
        // dnstapir-cli signs renewals with {"alg"} only; a kid, when present, must be the node.
        var signature = message.Signatures[0];
        if (!JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(node.DataKey), out var key, out why) || signature.Kid is not null && signature.Kid != name)
        {
            detail = why == Rejection.None ? "renewal signature refused (KeyNotFound)" : $"stored data key unusable ({why})";
            return false;
        }
        bool verified = JwsVerifier.TryVerifySignature(message, signature, key, JwsAlgorithms.Asymmetric, out why);
        detail = verified ? "" : $"renewal signature refused ({why})";
        return verified;
    }
}
