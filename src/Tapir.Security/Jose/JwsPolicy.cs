// What a verifier accepts, decided by the caller and never by the message (go-jose v4 style):
// the algorithms, the trusted keys, the serializations and the size limit.
namespace Tapir.Security.Jose;

public sealed record JwsPolicy(IReadOnlySet<JwsAlgorithm> Algorithms, JwkSet Keys)
{
    public int MaxBytes { get; init; } = JwsParser.DefaultMaxBytes;

    public JwsSerialization Serializations { get; init; } = JwsSerialization.Any;
}
