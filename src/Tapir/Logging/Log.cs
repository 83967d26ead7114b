// One line per event on stderr, as key=value pairs (logfmt: time=… level=… msg="…") or, with
// log.format = "json" / --log-format json, one JSON object per line with the same three members.
// Peers are named by node name; secrets, keys and payloads never appear (a test greps a full demo's
// logs for every secret it handled). Enough for a daemon under systemd, which adds its own metadata.
namespace Tapir.Logging;

public enum LogLevel
{
    Debug,
    Info,
    Warning,
    Error,
}

public enum LogFormat
{
    Text,
    Json,
}

public static class Log
{
    private static readonly Lock Gate = new();

    public static LogLevel Level { get; set; } = LogLevel.Info;

    public static TextWriter Output { get; set; } = Console.Error;

    public static LogFormat Format { get; set; } = LogFormat.Text;

    public static LogLevel Parse(string level) => level switch
    {
        "debug" => LogLevel.Debug,
        "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        _ => LogLevel.Info,
    };

    public static void Debug(string message) => Write(LogLevel.Debug, message);

    public static void Info(string message) => Write(LogLevel.Info, message);

    public static void Warning(string message) => Write(LogLevel.Warning, message);

    public static void Error(string message) => Write(LogLevel.Error, message);

    private static void Write(LogLevel level, string message)
    {
        if (level < Level)
        {
            return;
        }
        string line = Line(DateTimeOffset.UtcNow, level, message, Format);
        lock (Gate)
        {
            Output.WriteLine(line);
            Output.Flush();
        }
    }

    internal static string Line(DateTimeOffset time, LogLevel level, string message, LogFormat format)
    {
        string at = time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        string name = level.ToString().ToLowerInvariant();
        if (format == LogFormat.Json)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
            using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("time", at);
                w.WriteString("level", name);
                w.WriteString("msg", message);
                w.WriteEndObject();
            }
            return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        var quoted = new System.Text.StringBuilder(message.Length + 8);
        foreach (char c in message)
        {
            _ = c switch
            {
                '"' => quoted.Append("\\\""),
                '\\' => quoted.Append("\\\\"),
                '\n' => quoted.Append("\\n"),
                '\r' => quoted.Append("\\r"),
                '\t' => quoted.Append("\\t"),
                < ' ' or '\x7f' => quoted.Append($"\\u{(int)c:x4}"),
                _ => quoted.Append(c),
            };
        }
        return $"time={at} level={name} msg=\"{quoted}\"";
    }
}
