// POST /api/v1/node/{name}/renew (DESIGN §4.3): a JWS by the node's stored data key only, a fresh
// timestamp, a CSR under the same rules, accepted once: its timestamp must be later than the node's
// last renewal's (kept in the database). A presented client certificate must be the same node.
// The new certificate supersedes the node's others: they are revoked when it is committed.
using Tapir.Security.Jose;
using Tapir.Security.Pki;
using Tapir.Storage;

namespace Tapir.Core.Enrollment;

public static class RenewalService
{
    public static ApiResult Renew(CoreContext core, string name, byte[] body, string? clientNode)
    {
        var now = core.Clock.GetUtcNow();
        var node = NodeName.IsValid(name) ? core.Db(db => CoreDatabase.GetNode(db, name)) : null;
        if (node is null)
        {
            return ApiResult.Refuse(404, "unknown node");
        }
        if (node.State != "enrolled" || node.DataKey is null)
        {
            return ApiResult.Refuse(403, $"node is {node.State}; only enrolled nodes renew");
        }
        if (clientNode is not null && clientNode != name)
        {
            return ApiResult.Refuse(403, "client certificate belongs to another node");
        }
        if (!JwsParser.TryParse(body, EnrollmentService.MaxBodyBytes, out var message, out var why) || message!.Signatures.Count != 1 || message.Detached)
        {
            return ApiResult.Refuse(400, $"renewal must be a JWS with one signature ({why})");
        }
        if (!JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(node.DataKey), out var key, out _))
        {
            return ApiResult.Refuse(403, "stored data key unusable");
        }
        // dnstapir-cli signs renewals with {"alg"} only; a kid, when present, must be the node.
        var signature = message.Signatures[0];
        if (signature.Kid is not null && signature.Kid != name)
        {
            return ApiResult.Refuse(401, "renewal signature refused (KeyNotFound)");
        }
        if (!JwsVerifier.TryVerifySignature(message, signature, key!, JwsAlgorithms.Asymmetric, out why))
        {
            return ApiResult.Refuse(401, $"renewal signature refused ({why})");
        }
        if (!EnrollmentPayload.TryParse(message.Payload, withPublicKey: false, out var payload, out string reason))
        {
            return ApiResult.Refuse(400, reason);
        }
        if (!payload!.IsFresh(now))
        {
            return ApiResult.Refuse(400, "timestamp is more than 300 s from the core's clock");
        }
        if (!CsrRules.TryAuthorize(payload.CsrPem, name, core.Config.AllowP384Csr, out var csr, out reason))
        {
            return ApiResult.Refuse(400, reason);
        }
        if (Issuance.Lifetime(core, payload.Lifetime) is not TimeSpan lifetime)
        {
            return ApiResult.Refuse(400, "x509_lifetime is below one hour");
        }
        var (certificate, record, pem) = Issuance.Issue(core, csr!, name, lifetime, now);
        using (certificate)
        {
            var committed = core.Db(db => CoreDatabase.CompleteRenewal(db, name, payload.Timestamp.ToUnixTimeMilliseconds(), record, pem, now));
            if (committed != RenewalCommit.Done)
            {
                return ApiResult.Refuse(400, committed == RenewalCommit.Replayed ? "renewal request replayed: its timestamp is not later than the last renewal's" : "node removed meanwhile");
            }
            // The new serial is usable at once; the superseded one leaves the valid set at the next refresh
            // (0.5 s), after this response, which the edge writes before it stops using the old certificate.
            core.Validator.Add(record.Serial);
            return ApiResult.Ok(Json.Object(w => Issuance.WriteCertificate(w, core, certificate, pem)));
        }
    }
}
