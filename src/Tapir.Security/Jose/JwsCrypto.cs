// The signature primitives behind each JWS algorithm (RFC 7518 §3, RFC 8037 §3.1): EdDSA through
// the libcrypto binding, ECDSA with raw r||s (P1363), RSASSA-PSS with MGF1 of the same hash and a
// salt as long as the hash, RSASSA-PKCS1-v1_5, and HMAC compared in constant time.
// Callers check Jwk.Fits(alg) first; here a misfit is a caller mistake and throws.
using System.Security.Cryptography;
using Tapir.Security.Interop;

namespace Tapir.Security.Jose;

public static class JwsCrypto
{
    public static byte[] Sign(Jwk key, JwsAlgorithm alg, ReadOnlySpan<byte> input)
    {
        if (!key.Fits(alg) || !key.MaySign)
        {
            throw new ArgumentException($"{key} cannot sign with {alg}", nameof(key));
        }
        switch (alg)
        {
            case JwsAlgorithm.EdDSA:
                return key.EdKey!.Sign(input);
            case JwsAlgorithm.ES256 or JwsAlgorithm.ES384 or JwsAlgorithm.ES512:
                var ecdsa = (ECDsa)key.BclKey;
                lock (ecdsa)
                {
                    return ecdsa.SignData(input, JwsAlgorithms.Hash(alg), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
                }
            case JwsAlgorithm.HS256 or JwsAlgorithm.HS384 or JwsAlgorithm.HS512:
                return Hmac(alg, key.Secret!, input);
            default:
                var rsa = (RSA)key.BclKey;
                lock (rsa)
                {
                    return rsa.SignData(input.ToArray(), JwsAlgorithms.Hash(alg), Padding(alg));
                }
        }
    }

    /// <summary>False for a bad signature, a key that does not fit the algorithm, or one that may not verify.</summary>
    public static bool Verify(Jwk key, JwsAlgorithm alg, ReadOnlySpan<byte> input, ReadOnlySpan<byte> signature)
    {
        if (!key.Fits(alg) || !key.MayVerify)
        {
            return false;
        }
        switch (alg)
        {
            case JwsAlgorithm.EdDSA:
                return key.EdKey?.Verify(input, signature) ?? false;
            case JwsAlgorithm.ES256 or JwsAlgorithm.ES384 or JwsAlgorithm.ES512:
                var ec = key.Ec!.Value;
                if (signature.Length != 2 * ec.Q.X!.Length)
                {
                    return false;
                }
                var verifier = (ECDsa)key.BclKey;
                lock (verifier)
                {
                    return verifier.VerifyData(input, signature, JwsAlgorithms.Hash(alg), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
                }
            case JwsAlgorithm.HS256 or JwsAlgorithm.HS384 or JwsAlgorithm.HS512:
                byte[] expected = Hmac(alg, key.Secret!, input);
                return signature.Length == expected.Length && CryptographicOperations.FixedTimeEquals(expected, signature);
            default:
                var rsaVerifier = (RSA)key.BclKey;
                lock (rsaVerifier)
                {
                    return signature.Length == (rsaVerifier.KeySize + 7) / 8 && rsaVerifier.VerifyData(input, signature, JwsAlgorithms.Hash(alg), Padding(alg));
                }
        }
    }

    private static RSASignaturePadding Padding(JwsAlgorithm alg) =>
        alg is JwsAlgorithm.PS256 or JwsAlgorithm.PS384 or JwsAlgorithm.PS512 ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;

    private static byte[] Hmac(JwsAlgorithm alg, byte[] key, ReadOnlySpan<byte> input) => alg switch
    {
        JwsAlgorithm.HS256 => HMACSHA256.HashData(key, input),
        JwsAlgorithm.HS384 => HMACSHA384.HashData(key, input),
        _ => HMACSHA512.HashData(key, input),
    };
}
