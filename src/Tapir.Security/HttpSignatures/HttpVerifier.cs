// Verifies an RFC 9421 signature under a caller's policy, in STYLE's order: bound sizes, strict
// parse of Signature-Input and Signature (duplicate labels, components or parameters refused),
// profile (labels, count, parameters, required and covered-when-present components), time
// (created not beyond the skew, not older than the maximum age, not expired), key by keyid from
// trusted state, algorithm allowed and fitting the key, signature base, cryptographic check.
// Replay is the caller's (stateful) concern.
using Tapir.Security.Encoding;
using Tapir.Security.Jose;

namespace Tapir.Security.HttpSignatures;

public sealed record HttpSignatureVerified(
    string Label,
    SignatureParameters Parameters,
    Jwk Key,
    JwsAlgorithm Algorithm,
    byte[] SignatureBase,
    IReadOnlyList<KeyValuePair<string, string>> ComponentValues,
    string SignatureInputField,
    string SignatureField);

public static class HttpVerifier
{
    public static bool TryVerify(HttpMessage message, HttpSignaturePolicy policy, Func<string, Jwk?> keys, DateTimeOffset now,
        [NotNullWhen(true)] out HttpSignatureVerified? verified, out Rejection why)
    {
        verified = null;
        string inputField = string.Join(", ", message.Values("signature-input"));
        string signatureField = string.Join(", ", message.Values("signature"));
        if (inputField.Length == 0 || signatureField.Length == 0)
        {
            why = Rejection.SignatureMissing;
            return false;
        }
        if (inputField.Length > policy.MaxFieldLength || signatureField.Length > policy.MaxFieldLength)
        {
            why = Rejection.TooLarge;
            return false;
        }
        if (!SfParser.TryParseStrictDictionary(inputField, out var inputs, out why) || !SfParser.TryParseStrictDictionary(signatureField, out var signatures, out why))
        {
            return false;
        }
        if (inputs.Count != signatures.Count || inputs.Any(i => signatures.All(s => s.Key != i.Key)))
        {
            why = Rejection.Malformed;
            return false;
        }
        if (inputs.Count > policy.MaxSignatures)
        {
            why = Rejection.TooManySignatures;
            return false;
        }
        var chosen = inputs.FirstOrDefault(i => policy.Labels is null || policy.Labels.Contains(i.Key));
        if (chosen.Key is null)
        {
            why = Rejection.SignatureMissing;
            return false;
        }
        var signatureMember = signatures.First(s => s.Key == chosen.Key).Value;
        if (signatureMember.Bare?.AsBytes is not byte[] signature || signatureMember.Parameters.Count > 0)
        {
            why = Rejection.Malformed;
            return false;
        }
        if (!SignatureParameters.TryFrom(chosen.Value, out var parameters, out why)
            || !CheckProfile(message, parameters, policy, out why)
            || !CheckTime(parameters, policy, now, out why))
        {
            return false;
        }
        var key = parameters.KeyId is string keyId ? keys(keyId) : null;
        if (key is null)
        {
            why = Rejection.KeyNotFound;
            return false;
        }
        if (!TryAlgorithm(parameters, key, policy, out var algorithm, out why))
        {
            return false;
        }
        if (!SignatureBase.TryBuild(message, parameters, out var signatureBase, out var values, out _))
        {
            why = Rejection.ComponentMissing;
            return false;
        }
        if (!JwsCrypto.Verify(key, algorithm, signatureBase, signature))
        {
            why = Rejection.BadSignature;
            return false;
        }
        verified = new HttpSignatureVerified(chosen.Key, parameters, key, algorithm, signatureBase, values, inputField, signatureField);
        why = Rejection.None;
        return true;
    }

    private static bool CheckProfile(HttpMessage message, SignatureParameters parameters, HttpSignaturePolicy policy, out Rejection why)
    {
        why = Rejection.ParameterNotAllowed;
        if (parameters.Parameters.Any(p => !policy.AllowedParameters.Contains(p.Key)))
        {
            return false;
        }
        why = Rejection.ParameterMissing;
        if (policy.RequiredParameters.Any(p => !parameters.Has(p)))
        {
            return false;
        }
        why = Rejection.ComponentMissing;
        var covered = parameters.Components.Select(c => c.Serialized).ToHashSet(StringComparer.Ordinal);
        if (policy.RequiredComponents.Any(c => !covered.Contains(c)))
        {
            return false;
        }
        if (policy.CoveredWhenPresent.Any(f => message.Values(f).Count > 0 && !covered.Contains($"\"{f}\"")))
        {
            return false;
        }
        why = Rejection.None;
        return true;
    }

    private static bool CheckTime(SignatureParameters parameters, HttpSignaturePolicy policy, DateTimeOffset now, out Rejection why)
    {
        long nowSeconds = now.ToUnixTimeSeconds();
        if (parameters.Created is long created)
        {
            if (created > nowSeconds + (long)policy.ClockSkew.TotalSeconds)
            {
                why = Rejection.NotYetValid;
                return false;
            }
            if (policy.MaxAge is TimeSpan maxAge && created < nowSeconds - (long)maxAge.TotalSeconds)
            {
                why = Rejection.TooOld;
                return false;
            }
        }
        if (parameters.Expires is long expires && expires <= nowSeconds)
        {
            why = Rejection.Expired;
            return false;
        }
        why = Rejection.None;
        return true;
    }

    private static bool TryAlgorithm(SignatureParameters parameters, Jwk key, HttpSignaturePolicy policy, out JwsAlgorithm algorithm, out Rejection why)
    {
        algorithm = default;
        if (parameters.Alg is string name)
        {
            if (!policy.Algorithms.Contains(name) || !HttpSignatureAlgorithm.TryMap(name, out algorithm))
            {
                why = Rejection.AlgorithmNotAllowed;
                return false;
            }
            why = HttpSignatureAlgorithm.Fits(key, name) && key.MayVerify ? Rejection.None : Rejection.KeyMismatch;
            return why == Rejection.None;
        }
        if (key.ImpliedAlgorithm is not JwsAlgorithm implied || !policy.KeyAlgorithms.Contains(implied)
            || key.IsSymmetric && !policy.Algorithms.Contains(HttpSignatureAlgorithm.Hmac))
        {
            why = Rejection.AlgorithmNotAllowed;
            return false;
        }
        algorithm = implied;
        why = key.MayVerify ? Rejection.None : Rejection.WeakOrInvalidKey;
        return why == Rejection.None;
    }
}
