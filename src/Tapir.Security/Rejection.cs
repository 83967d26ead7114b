// The one list of reasons untrusted input is refused. Values stay distinct so tests can assert
// the exact reason and logs can say it; on the wire they collapse to a uniform status.
namespace Tapir.Security;

public enum Rejection
{
    None = 0,
    /// <summary>Input larger than the caller's limit.</summary>
    TooLarge,
    /// <summary>Syntax: bad JSON, base64url, PEM or DER, wrong structure, wrong lengths.</summary>
    Malformed,
    /// <summary>A JSON member (or structured-field key, or component) appears twice.</summary>
    DuplicateMember,
    /// <summary>The algorithm (or a CSR's key type) is missing, unknown, "none", or not in the allowed set.</summary>
    AlgorithmNotAllowed,
    /// <summary>The algorithm does not fit the key (family, curve, size, or the key's own alg).</summary>
    KeyMismatch,
    /// <summary>No trusted key has the kid (or there is no kid where one is required).</summary>
    KeyNotFound,
    /// <summary>The key is unusable: too small, not on the curve, wrong use or key_ops, weak RSA.</summary>
    WeakOrInvalidKey,
    /// <summary>A key set is ambiguous: duplicate kids, or symmetric and asymmetric keys mixed.</summary>
    AmbiguousKeySet,
    /// <summary>A crit header, or a header parameter tapir does not process (b64).</summary>
    CriticalHeader,
    /// <summary>A header parameter appears in both the protected and the unprotected header.</summary>
    HeaderConflict,
    /// <summary>A parameter that must be integrity protected (alg) is only in the unprotected header.</summary>
    UnprotectedHeader,
    /// <summary>A serialization the verifier was not told to accept.</summary>
    SerializationNotAllowed,
    /// <summary>The signature does not verify.</summary>
    BadSignature,
    /// <summary>A component the policy requires is not covered, or a covered one is not in the message.</summary>
    ComponentMissing,
    /// <summary>A parameter or member the profile does not allow (a private key where a public one belongs).</summary>
    ParameterNotAllowed,
    /// <summary>The signed time is in the future beyond the allowed skew.</summary>
    NotYetValid,
    /// <summary>The signature has expired.</summary>
    Expired,
    /// <summary>The signed time is older than the maximum age (or the clock window).</summary>
    TooOld,
    /// <summary>The message was already accepted once (the host's check; the library keeps no state).</summary>
    Replayed,
    /// <summary>The body does not match its digest.</summary>
    DigestMismatch,
    /// <summary>More signatures than the verifier accepts on one message.</summary>
    TooManySignatures,

    // Split from ComponentMissing and Malformed for enrollment, renewal and CSRs (issue 9).
    /// <summary>No signature at all, or none under a label the verifier accepts.</summary>
    SignatureMissing,
    /// <summary>A required signature parameter (created, keyid) or payload member is missing.</summary>
    ParameterMissing,
    /// <summary>A name that must be the node's (CSR subject or SAN, kid, client certificate) is not.</summary>
    NameMismatch,
    /// <summary>A CSR attribute, or a requested extension other than subjectAltName.</summary>
    ExtensionNotAllowed,
    /// <summary>A well-formed value outside the profile's bounds (a certificate lifetime).</summary>
    OutOfRange,

    // X.509 certificates a peer presents (Pki/ChainValidator.cs, DESIGN §2, §3).
    /// <summary>The certificate does not chain to the tapir root alone (foreign CA, bad signature, expired root).</summary>
    CertificateUntrusted,
    /// <summary>The certificate's notAfter has passed.</summary>
    CertificateExpired,
    /// <summary>The certificate's notBefore has not come yet.</summary>
    CertificateNotYetValid,
    /// <summary>The certificate's extended key usage does not allow the purpose it is presented for (serverAuth, clientAuth).</summary>
    CertificateWrongPurpose,
    /// <summary>The subject is not exactly CN=&lt;node name&gt;, or the CN differs from the dNSName, or there is no dNSName.</summary>
    CertificateNameMismatch,
    /// <summary>The certificate carries more than one dNSName.</summary>
    CertificateTooManyNames,
    /// <summary>The certificate names more than its DNS name: an IP address on a node certificate, or an e-mail, URI or other SAN entry.</summary>
    CertificateExtraName,
    /// <summary>The certificate is valid but for another peer than the one expected (the host dialled, or the node).</summary>
    CertificateWrongName,
    /// <summary>The certificate is not one the CA issued to a node that is still enrolled: revoked, or its node removed.</summary>
    CertificateRevoked,

    // MQTT (Mqtt/MqttAcl.cs, DESIGN §6.2).
    /// <summary>The ACL does not allow this peer the topic or filter (or a retained publish).</summary>
    AclDenied,
}
