// A covered component (RFC 9421 §2): a lower-case field name or a derived component name, with
// the parameters sf, key, bs, req, tr and name. Combinations the RFC forbids are refused: sf
// with bs, key with bs, parameters on derived components other than req (and name on
// @query-param), unknown derived components, unknown parameters.
using Tapir.Security.Encoding;

namespace Tapir.Security.HttpSignatures;

public sealed record ComponentIdentifier(string Name, IReadOnlyList<KeyValuePair<string, SfBareItem>> Parameters)
{
    public static readonly IReadOnlySet<string> DerivedNames = new HashSet<string>
    {
        "@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query", "@query-param", "@status",
    };

    public bool IsDerived => Name.StartsWith('@');

    public bool Has(string parameter) => Parameters.Any(p => p.Key == parameter);

    public string? StringParameter(string parameter) =>
        Parameters.Where(p => p.Key == parameter).Select(p => p.Value.AsString).FirstOrDefault();

    /// <summary>The identifier as it stands in the signature base and in Signature-Input.</summary>
    public string Serialized => SfSerializer.SerializeMember(new SfMember(SfBareItem.String(Name), null, Parameters));

    public static ComponentIdentifier Field(string name) => new(name, []);

    /// <summary>Parses one serialized identifier such as "content-digest" or "@query-param";name="a".</summary>
    public static bool TryParse(string serialized, [NotNullWhen(true)] out ComponentIdentifier? identifier, out Rejection why)
    {
        identifier = null;
        if (!SfParser.TryParseItem(serialized, out var item))
        {
            why = Rejection.Malformed;
            return false;
        }
        return TryFrom(item, out identifier, out why);
    }

    public static bool TryFrom(SfMember item, [NotNullWhen(true)] out ComponentIdentifier? identifier, out Rejection why)
    {
        identifier = null;
        why = Rejection.Malformed;
        if (item.IsInnerList || item.Bare?.AsString is not string name || name.Length == 0 || name != name.ToLowerInvariant())
        {
            return false;
        }
        var seen = new HashSet<string>();
        foreach (var (key, value) in item.Parameters)
        {
            if (!seen.Add(key))
            {
                why = Rejection.DuplicateMember;
                return false;
            }
            bool typeOk = key switch
            {
                "sf" or "bs" or "req" or "tr" => value is { Kind: SfKind.Boolean, Value: true },
                "key" or "name" => value.Kind == SfKind.String,
                _ => false,
            };
            if (!typeOk)
            {
                why = key is "sf" or "bs" or "req" or "tr" or "key" or "name" ? Rejection.Malformed : Rejection.ParameterNotAllowed;
                return false;
            }
        }
        var candidate = new ComponentIdentifier(name, item.Parameters);
        bool valid = candidate.IsDerived
            ? DerivedNames.Contains(name) && item.Parameters.All(p => p.Key == "req" || p.Key == "name" && name == "@query-param")
                && (name != "@query-param" || candidate.Has("name"))
            : !(candidate.Has("sf") && candidate.Has("bs")) && !(candidate.Has("key") && candidate.Has("bs")) && !candidate.Has("name");
        if (!valid)
        {
            why = Rejection.ParameterNotAllowed;
            return false;
        }
        identifier = candidate;
        why = Rejection.None;
        return true;
    }
}
