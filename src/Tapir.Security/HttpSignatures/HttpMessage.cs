// The view of an HTTP message that RFC 9421 components are taken from: method, request target
// and scheme (requests) or status (responses), field lines in order, trailers, body, and for a
// response the request it answers (the req parameter, RFC 9421 §2.4). Field names compare
// case-insensitively; values are kept with surrounding white space already removed.
namespace Tapir.Security.HttpSignatures;

public sealed class HttpMessage
{
    public string? Method { get; init; }

    /// <summary>The request target exactly as on the request line (origin, absolute, authority or asterisk form).</summary>
    public string? Target { get; init; }

    /// <summary>The scheme the request arrived over; not on the wire in HTTP/1.1, so the receiver states it.</summary>
    public string Scheme { get; init; } = "https";

    public int? Status { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> Fields { get; init; } = [];

    public IReadOnlyList<KeyValuePair<string, string>> Trailers { get; init; } = [];

    public byte[] Body { get; init; } = [];

    public HttpMessage? Request { get; init; }

    public bool IsRequest => Method is not null;

    /// <summary>Every value of the named field (or trailer), in order.</summary>
    public IReadOnlyList<string> Values(string name, bool trailers = false) =>
        (trailers ? Trailers : Fields).Where(f => string.Equals(f.Key, name, StringComparison.OrdinalIgnoreCase)).Select(f => f.Value).ToList();

    public HttpMessage WithFields(IEnumerable<KeyValuePair<string, string>> extra) => new()
    {
        Method = Method, Target = Target, Scheme = Scheme, Status = Status,
        Fields = Fields.Concat(extra).ToList(), Trailers = Trailers, Body = Body, Request = Request,
    };
}
