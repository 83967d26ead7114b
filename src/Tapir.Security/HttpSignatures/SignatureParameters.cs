// One signature's covered components and parameters (RFC 9421 §2.3): the inner list of
// Signature-Input. created and expires are integers, nonce, alg, keyid and tag strings; any
// other parameter is kept so the policy can refuse it by name. Duplicate components or
// parameters are refused here: two readings of one signature must be impossible.
using Tapir.Security.Encoding;

namespace Tapir.Security.HttpSignatures;

public sealed record SignatureParameters(IReadOnlyList<ComponentIdentifier> Components, IReadOnlyList<KeyValuePair<string, SfBareItem>> Parameters)
{
    public static readonly IReadOnlySet<string> Known = new HashSet<string> { "created", "expires", "nonce", "alg", "keyid", "tag" };

    public long? Created => Parameter("created")?.AsInteger;

    public long? Expires => Parameter("expires")?.AsInteger;

    public string? Alg => Parameter("alg")?.AsString;

    public string? KeyId => Parameter("keyid")?.AsString;

    public bool Has(string name) => Parameters.Any(p => p.Key == name);

    private SfBareItem? Parameter(string name) => Parameters.Where(p => p.Key == name).Select(p => (SfBareItem?)p.Value).FirstOrDefault();

    /// <summary>The value of @signature-params: the inner list serialized with its parameters.</summary>
    public string Serialized => SfSerializer.SerializeMember(new SfMember(
        null, Components.Select(c => new SfMember(SfBareItem.String(c.Name), null, c.Parameters)).ToList(), Parameters));

    public static bool TryFrom(SfMember member, [NotNullWhen(true)] out SignatureParameters? parameters, out Rejection why)
    {
        parameters = null;
        why = Rejection.Malformed;
        if (!member.IsInnerList)
        {
            return false;
        }
        var components = new List<ComponentIdentifier>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in member.InnerList!)
        {
            if (!ComponentIdentifier.TryFrom(item, out var component, out why))
            {
                return false;
            }
            if (!seen.Add(component.Serialized))
            {
                why = Rejection.DuplicateMember;
                return false;
            }
            components.Add(component);
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in member.Parameters)
        {
            bool typeOk = key switch
            {
                "created" or "expires" => value.Kind == SfKind.Integer && (long)value.Value >= 0,
                "nonce" or "alg" or "keyid" or "tag" => value.Kind == SfKind.String,
                _ => true,
            };
            if (!names.Add(key))
            {
                why = Rejection.DuplicateMember;
                return false;
            }
            if (!typeOk)
            {
                why = Rejection.Malformed;
                return false;
            }
        }
        parameters = new SignatureParameters(components, member.Parameters);
        why = Rejection.None;
        return true;
    }
}
