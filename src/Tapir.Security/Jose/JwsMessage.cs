// A parsed JWS (RFC 7515 §7): the payload and each signature exactly as received. Signing inputs
// are rebuilt from the received base64url text, never from re-serialised JSON.
namespace Tapir.Security.Jose;

[Flags]
public enum JwsSerialization
{
    Compact = 1,
    Flattened = 2,
    General = 4,
    Any = Compact | Flattened | General,
}

/// <summary>One signature: its protected header text as received, the header values, the signature bytes.</summary>
public sealed record JwsSignature(string ProtectedB64, JwsAlgorithm Alg, string? Kid, string? Typ, byte[] Value)
{
    internal byte[] SigningInput(string payloadB64) => System.Text.Encoding.ASCII.GetBytes($"{ProtectedB64}.{payloadB64}");
}

public sealed record JwsMessage(JwsSerialization Serialization, string PayloadB64, byte[] Payload, bool Detached, IReadOnlyList<JwsSignature> Signatures)
{
    /// <summary>Supplies a detached payload (RFC 7515 App. F) as the base64url text that was signed.</summary>
    public JwsMessage WithDetachedPayload(string payloadB64, byte[] payload) =>
        Detached ? this with { PayloadB64 = payloadB64, Payload = payload, Detached = false }
        : throw new InvalidOperationException("the message carries its own payload");
}
