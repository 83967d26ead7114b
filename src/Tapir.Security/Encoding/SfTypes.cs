// Structured Field Values as RFC 9421 uses them (RFC 8941): bare items, parameters, items, inner
// lists, lists and dictionaries. RFC 9651's Date and Display String lie outside the TAPIR profile
// and are refused by the parser. Parameters and
// dictionaries keep their order; repeated keys are reported by the parser so callers that must
// refuse them (Signature-Input, Content-Digest) can.
namespace Tapir.Security.Encoding;

public enum SfKind
{
    Integer,
    Decimal,
    String,
    Token,
    ByteSequence,
    Boolean,
}

/// <summary>A bare item: Value is long (Integer), decimal, string (String, Token), byte[] or bool.</summary>
public readonly record struct SfBareItem(SfKind Kind, object Value)
{
    public static SfBareItem Integer(long v) => new(SfKind.Integer, v);
    public static SfBareItem Decimal(decimal v) => new(SfKind.Decimal, v);
    public static SfBareItem String(string v) => new(SfKind.String, v);
    public static SfBareItem Token(string v) => new(SfKind.Token, v);
    public static SfBareItem Bytes(byte[] v) => new(SfKind.ByteSequence, v);
    public static SfBareItem Boolean(bool v) => new(SfKind.Boolean, v);

    public string? AsString => Kind == SfKind.String ? Value as string : null;
    public long? AsInteger => Kind == SfKind.Integer && Value is long n ? n : null;
    public byte[]? AsBytes => Kind == SfKind.ByteSequence ? Value as byte[] : null;
}

/// <summary>An item (Bare set) or an inner list (InnerList set), each with parameters.</summary>
public sealed record SfMember(SfBareItem? Bare, IReadOnlyList<SfMember>? InnerList, IReadOnlyList<KeyValuePair<string, SfBareItem>> Parameters)
{
    public bool IsInnerList => InnerList is not null;

    public SfBareItem? Parameter(string key) => Parameters.Where(p => p.Key == key).Select(p => (SfBareItem?)p.Value).FirstOrDefault();
}
