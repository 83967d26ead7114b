// What an API handler answers: a status, a body, and for refusals the short reason sent on the wire
// and the detail that only the log gets (DESIGN §8.6). Refusals of enrollment and renewal are made
// by WireAnswers, the one table from a Rejection to its status and reason.
namespace Tapir.Core.Enrollment;

public sealed record ApiResult(int Status, byte[] Body, string ContentType)
{
    public ApiResult(int status, string text, string contentType = "application/json")
        : this(status, System.Text.Encoding.UTF8.GetBytes(text), contentType)
    {
    }

    /// <summary>A body streamed instead of <see cref="Body"/> (an aggregate payload file); the writer disposes it.</summary>
    public Stream? Content { get; init; }

    /// <summary>The short reason of a refusal, as sent.</summary>
    public string? Reason { get; init; }

    /// <summary>Which check refused and why: for the log, never the wire.</summary>
    public string? Detail { get; init; }

    public static ApiResult Ok(string json) => new(200, json);

    public static ApiResult Refuse(int status, string reason, string? detail = null) =>
        new(status, Json.Object(w => w.WriteString("error", reason))) { Reason = reason, Detail = detail };

    /// <summary>The body as text for logs (binary bodies by size only).</summary>
    public string Text => ContentType.StartsWith("application/json", StringComparison.Ordinal) || ContentType.StartsWith("text/", StringComparison.Ordinal)
        ? System.Text.Encoding.UTF8.GetString(Body) : $"{Body.Length} bytes";
}
