// Verifies a JWS against a caller's policy, in STYLE's order: size, strict parse, serialization
// allowed, then for every signature: algorithm allowed, kid found among trusted keys, key fits the
// algorithm (family, curve, size, the key's own alg) and may verify, then the signature itself.
// Every signature of a message must verify: a general JWS is accepted whole or not at all.
namespace Tapir.Security.Jose;

public sealed record JwsVerified(JwsMessage Message, IReadOnlyList<Jwk> Keys)
{
    public byte[] Payload => Message.Payload;
}

public static class JwsVerifier
{
    public static bool TryVerify(ReadOnlyMemory<byte> input, JwsPolicy policy, [NotNullWhen(true)] out JwsVerified? verified, out Rejection why)
    {
        verified = null;
        return JwsParser.TryParse(input, policy.MaxBytes, out var message, out why) && TryVerify(message, policy, out verified, out why);
    }

    public static bool TryVerify(JwsMessage message, JwsPolicy policy, [NotNullWhen(true)] out JwsVerified? verified, out Rejection why)
    {
        verified = null;
        if ((policy.Serializations & message.Serialization) == 0)
        {
            why = Rejection.SerializationNotAllowed;
            return false;
        }
        if (message.Detached)
        {
            why = Rejection.Malformed;
            return false;
        }
        var keys = new List<Jwk>();
        foreach (var signature in message.Signatures)
        {
            var key = policy.Keys.Find(signature.Kid);
            if (!policy.Algorithms.Contains(signature.Alg))
            {
                why = Rejection.AlgorithmNotAllowed;
                return false;
            }
            if (key is null)
            {
                why = Rejection.KeyNotFound;
                return false;
            }
            if (!TryVerifySignature(message, signature, key, policy.Algorithms, out why))
            {
                return false;
            }
            keys.Add(key);
        }
        why = Rejection.None;
        verified = new JwsVerified(message, keys);
        return true;
    }

    /// <summary>Checks one signature of a message with one key chosen by the caller.</summary>
    public static bool TryVerifySignature(JwsMessage message, JwsSignature signature, Jwk key, IReadOnlySet<JwsAlgorithm> allowed, out Rejection why)
    {
        if (!allowed.Contains(signature.Alg))
        {
            why = Rejection.AlgorithmNotAllowed;
            return false;
        }
        if (!key.Fits(signature.Alg))
        {
            why = Rejection.KeyMismatch;
            return false;
        }
        if (!key.MayVerify)
        {
            why = Rejection.WeakOrInvalidKey;
            return false;
        }
        if (!JwsCrypto.Verify(key, signature.Alg, signature.SigningInput(message.PayloadB64), signature.Value))
        {
            why = Rejection.BadSignature;
            return false;
        }
        why = Rejection.None;
        return true;
    }
}
