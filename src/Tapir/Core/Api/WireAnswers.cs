// The one table from a refusal to its wire answer (DESIGN §8.6, STYLE "Errors"): each Rejection has
// one status (400/401/403/413) and one short reason; which check refused, and why, goes to the log
// only. Before the caller has proven it holds the node's enrollment secret or data key, every
// refusal of enrollment or renewal is one answer per endpoint (401 "enrollment refused" / 401
// "renewal refused"), so the wire does not tell which names exist or what state they are in.
using Tapir.Core.Enrollment;
using Tapir.Security;

namespace Tapir.Core.Api;

public static class WireAnswers
{
    public const string EnrollmentRefused = "enrollment refused";

    public const string RenewalRefused = "renewal refused";

    /// <summary>The answer to an enrollment or renewal whose caller is not authenticated as the node.</summary>
    public static ApiResult Unauthenticated(string endpointReason, string detail) => ApiResult.Refuse(401, endpointReason, detail);

    /// <summary>A refusal of one part of the request (payload, x509_csr, ...) for an authenticated caller.</summary>
    public static ApiResult Refuse(Rejection why, string part, string? detail = null)
    {
        var (status, reason) = Answer(why);
        return ApiResult.Refuse(status, $"{part}: {reason}", $"{part}: {why}{(detail is null ? "" : $", {detail}")}");
    }

    /// <summary>An aggregate {type} that is not configured (DESIGN §5.1); the path segment is never used as a name.</summary>
    public static ApiResult UnknownAggregateType(string detail) => ApiResult.Refuse(404, "no such aggregate type", detail);

    /// <summary>An aggregate Content-Type that is not configured (DESIGN §5.1).</summary>
    public static ApiResult ContentTypeNotAccepted(string detail) => ApiResult.Refuse(415, "Content-Type: not accepted", detail);

    public static (int Status, string Reason) Answer(Rejection why) => why switch
    {
        Rejection.TooLarge => (413, "too large"),
        Rejection.Malformed => (400, "malformed"),
        Rejection.DuplicateMember => (400, "duplicate member"),
        Rejection.ParameterNotAllowed => (400, "member or parameter not allowed"),
        Rejection.ParameterMissing => (400, "required member or parameter missing"),
        Rejection.SignatureMissing => (400, "signature missing"),
        Rejection.ComponentMissing => (400, "required component missing"),
        Rejection.TooManySignatures => (400, "wrong number of signatures"),
        Rejection.SerializationNotAllowed => (400, "serialization not accepted"),
        Rejection.CriticalHeader => (400, "header not understood"),
        Rejection.HeaderConflict => (400, "header parameter in both headers"),
        Rejection.UnprotectedHeader => (400, "alg must be in the protected header"),
        Rejection.AlgorithmNotAllowed => (400, "algorithm or key type not allowed"),
        Rejection.KeyMismatch => (400, "algorithm does not fit the key"),
        Rejection.WeakOrInvalidKey => (400, "key unusable"),
        Rejection.AmbiguousKeySet => (400, "ambiguous key set"),
        Rejection.ExtensionNotAllowed => (400, "only a subjectAltName extension is allowed"),
        Rejection.OutOfRange => (400, "value out of range"),
        Rejection.NotYetValid => (400, "too far in the future"),
        Rejection.TooOld => (400, "too old"),
        Rejection.Expired => (400, "expired"),
        Rejection.Replayed => (400, "replayed"),
        Rejection.DigestMismatch => (400, "digest mismatch"),
        Rejection.KeyNotFound => (401, "key not found"),
        Rejection.BadSignature => (401, "signature does not verify"),
        Rejection.NameMismatch => (403, "must be the node's name"),
        // A presented certificate (ChainValidator): the client gets no detail of what is wrong with it.
        Rejection.CertificateUntrusted or Rejection.CertificateExpired or Rejection.CertificateNotYetValid
            or Rejection.CertificateWrongPurpose or Rejection.CertificateNameMismatch or Rejection.CertificateTooManyNames
            or Rejection.CertificateExtraName or Rejection.CertificateWrongName or Rejection.CertificateRevoked => (403, "client certificate refused"),
        // The MQTT ACL (the broker answers with MQTT codes; this is the HTTP form should the API ever need it).
        Rejection.AclDenied => (403, "not allowed"),
        _ => throw new ArgumentOutOfRangeException(nameof(why), why, "not a refusal, or a Rejection without a wire answer"),
    };
}
