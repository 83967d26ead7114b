// The keys the agent trusts for messages from the core (DESIGN §6.4, §6.5). Every received message
// is verified against them (`kid` names a trusted key, `alg` fits that key and its own alg); the set
// is replaced only by a verified `config/down/jwks` message, and only by a valid public JWKS that
// is not empty: no private or symmetric key, no key that may not verify.
using Tapir.Security;
using Tapir.Security.Jose;

namespace Tapir.Edge.Agent;

public sealed class TrustedKeys(EdgeState state)
{
    private readonly Lock gate = new();
    private JwkSet keys = state.TrustedJwks();

    public JwkSet Current
    {
        get
        {
            lock (gate)
            {
                return keys;
            }
        }
    }

    public bool TryVerify(ReadOnlyMemory<byte> message, [NotNullWhen(true)] out JwsVerified? verified, out Rejection why) =>
        JwsVerifier.TryVerify(message, new JwsPolicy(JwsAlgorithms.Asymmetric, Current), out verified, out why);

    /// <summary>Replaces the trusted set with a verified message's payload, if it is a usable public JWKS.</summary>
    public bool TryReplace(ReadOnlyMemory<byte> payload, [NotNullWhen(true)] out JwkSet? replaced, out Rejection why)
    {
        replaced = null;
        if (!JwkSet.TryParse(payload, out var set, out why))
        {
            return false;
        }
        why = set.Keys.Count == 0 ? Rejection.Malformed
            : set.Keys.Any(k => k.HasPrivateKey || k.IsSymmetric) ? Rejection.ParameterNotAllowed
            : set.Keys.Any(k => !k.MayVerify) ? Rejection.WeakOrInvalidKey
            : Rejection.None;
        if (why != Rejection.None)
        {
            return false;
        }
        lock (gate)
        {
            state.ReplaceTrustedJwks(set);
            keys = set;
        }
        replaced = set;
        return true;
    }

    public static string Kids(JwkSet set) => string.Join(", ", set.Keys.Select(k => k.Kid));
}
