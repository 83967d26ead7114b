// Writing the API's JSON with Utf8JsonWriter: no reflection, members in the order nodeman uses.
using System.Text.Json;

namespace Tapir.Core.Enrollment;

public static class Json
{
    public static string Object(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Writes already-serialized JSON (a JWK or JWK set) as a member's value.</summary>
    public static void WriteRaw(Utf8JsonWriter writer, string name, string json)
    {
        writer.WritePropertyName(name);
        writer.WriteRawValue(json);
    }
}
