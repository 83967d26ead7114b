// The edge's outbound audit log (issue 13): one JSON line in <state>/audit.log for everything the
// edge sends to the core, so the resolver operator sees exactly what leaves the network: when,
// what kind (aggregate, mqtt), where (URL or topic), the body's size and SHA-256, the signature
// label (RFC 9421) or "jws", the kid it was signed with, and what came back. Each record is one
// write(2) to a file opened with O_APPEND and synced, so records from `edge submit` and `edge run`
// never interleave and none is lost on a crash. Never a body, never a key.
using System.Text.Json;

namespace Tapir.Edge.Audit;

public sealed record AuditRecord(DateTimeOffset Time, string Kind, string Target, long Bytes, string Sha256, string Label, string Kid, string Outcome);

public static class OutboundAudit
{
    public const string FileName = "audit.log";

    public static void Append(string stateDirectory, AuditRecord record)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("time", record.Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("kind", record.Kind);
            w.WriteString("target", record.Target);
            w.WriteNumber("bytes", record.Bytes);
            w.WriteString("sha256", record.Sha256);
            w.WriteString("label", record.Label);
            w.WriteString("kid", record.Kid);
            w.WriteString("outcome", record.Outcome);
            w.WriteEndObject();
        }
        byte[] line = [.. buffer.WrittenSpan, (byte)'\n'];
        using var file = new FileStream(Path.Combine(stateDirectory, FileName), new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.ReadWrite,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        file.Write(line);
        file.Flush(flushToDisk: true);
    }

    /// <summary>Records one MQTT message as sent (its JWS bytes) and what the broker answered.</summary>
    public static void RecordMessage(string stateDirectory, string topic, byte[] jws, string kid, string outcome) =>
        Append(stateDirectory, new AuditRecord(DateTimeOffset.UtcNow, "mqtt", topic, jws.Length,
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(jws)), "jws", kid, outcome));

    /// <summary>The records in order; a line that is not a record is an error naming its number.</summary>
    public static IReadOnlyList<AuditRecord> Read(string stateDirectory)
    {
        string path = Path.Combine(stateDirectory, FileName);
        var records = new List<AuditRecord>();
        if (!File.Exists(path))
        {
            return records;
        }
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            records.Add(Parse(line) ?? throw new TapirException($"{path}:{number}: not an audit record."));
        }
        return records;
    }

    private static AuditRecord? Parse(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            string Text(string name) => r.GetProperty(name) is { ValueKind: JsonValueKind.String } v ? v.GetString()! : throw new FormatException(name);
            return new AuditRecord(DateTimeOffset.Parse(Text("time"), System.Globalization.CultureInfo.InvariantCulture), Text("kind"), Text("target"),
                r.GetProperty("bytes").GetInt64(), Text("sha256"), Text("label"), Text("kid"), Text("outcome"));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
