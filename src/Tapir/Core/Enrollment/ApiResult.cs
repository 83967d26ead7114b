// What an API handler answers: a status, a body, and for refusals the reason that goes to the log
// (the wire gets the uniform status and a short reason, DESIGN §8.6).
namespace Tapir.Core.Enrollment;

public sealed record ApiResult(int Status, byte[] Body, string ContentType)
{
    public ApiResult(int status, string text, string contentType = "application/json")
        : this(status, System.Text.Encoding.UTF8.GetBytes(text), contentType)
    {
    }

    public static ApiResult Ok(string json) => new(200, json);

    public static ApiResult Refuse(int status, string reason) =>
        new(status, Json.Object(w => w.WriteString("error", reason)));

    /// <summary>The body as text for logs (binary bodies by size only).</summary>
    public string Text => ContentType.StartsWith("application/json", StringComparison.Ordinal) || ContentType.StartsWith("text/", StringComparison.Ordinal)
        ? System.Text.Encoding.UTF8.GetString(Body) : $"{Body.Length} bytes";
}
