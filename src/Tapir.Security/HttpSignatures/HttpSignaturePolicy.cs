// What an RFC 9421 verifier accepts, chosen by the caller (DESIGN §5.2 is one such policy):
// algorithms by RFC 9421 name, JWS algorithms allowed when alg is absent, required components
// and parameters, fields that must be covered whenever they are sent, allowed parameters,
// maximum age, clock skew, labels, how many signatures, and size limits.
using Tapir.Security.Jose;

namespace Tapir.Security.HttpSignatures;

public sealed record HttpSignaturePolicy
{
    public IReadOnlySet<string> Algorithms { get; init; } = HttpSignatureAlgorithm.All.Where(a => a != HttpSignatureAlgorithm.Hmac).ToHashSet();

    /// <summary>JWS algorithms taken from the key when the signature has no alg (RFC 9421 §3.3.7).</summary>
    public IReadOnlySet<JwsAlgorithm> KeyAlgorithms { get; init; } = JwsAlgorithms.Asymmetric;

    public IReadOnlyList<string> RequiredComponents { get; init; } = [];

    public IReadOnlyList<string> CoveredWhenPresent { get; init; } = [];

    public IReadOnlySet<string> RequiredParameters { get; init; } = new HashSet<string> { "created", "keyid" };

    public IReadOnlySet<string> AllowedParameters { get; init; } = SignatureParameters.Known;

    public TimeSpan? MaxAge { get; init; }

    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(60);

    public IReadOnlySet<string>? Labels { get; init; }

    public int MaxSignatures { get; init; } = 1;

    public int MaxFieldLength { get; init; } = 8192;

    /// <summary>The aggregate profile of DESIGN §5.2.</summary>
    public static HttpSignaturePolicy Aggregates(TimeSpan maxAge) => new()
    {
        RequiredComponents = ["\"content-digest\"", "\"content-type\"", "\"content-length\""],
        CoveredWhenPresent = ["aggregate-interval"],
        MaxAge = maxAge,
    };
}
