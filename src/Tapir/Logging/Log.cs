// One line per event on stderr, as key=value pairs (logfmt: time=… level=… msg="…") or, with
// log.format = "json" / --log-format json, one JSON object per line with the same three members.
// Peers are named by node name; secrets, keys and payloads never appear. Enough for a daemon under
// systemd, which adds its own metadata. Refusals of untrusted
// input (Refusal) are written by a background writer, about RefusalsPerSecond lines a second: a
// flood of bad requests cannot make the log the bottleneck. The first lines of each second are
// written; the rest are counted and summarised ("N more refusals suppressed") once a second.
using System.Threading.Channels;

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
    /// <summary>Refusal lines written per second; beyond that they are counted, not written.</summary>
    public const int RefusalsPerSecond = 200;

    private static readonly Lock Gate = new();

    private static readonly Channel<string> Refusals = Channel.CreateBounded<string>(
        new BoundedChannelOptions(RefusalsPerSecond) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private static long second;
    private static int admitted;
    private static long suppressed;
    private static int writerStarted;

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

    /// <summary>A refused request or handshake (a warning): queued for the background writer, or counted when this second's share is used up.</summary>
    public static void Refusal(string message)
    {
        if (LogLevel.Warning < Level)
        {
            return;
        }
        if (!Admit() || !Refusals.Writer.TryWrite(Line(DateTimeOffset.UtcNow, LogLevel.Warning, message, Format)))
        {
            Interlocked.Increment(ref suppressed);
        }
        if (Interlocked.Exchange(ref writerStarted, 1) == 0)
        {
            _ = Task.Run(WriteRefusals);
        }
    }

    /// <summary>Writes the refusals still queued and the count of those suppressed (at shutdown).</summary>
    public static void FlushRefusals()
    {
        lock (Gate)
        {
            while (Refusals.Reader.TryRead(out string? line))
            {
                Output.WriteLine(line);
            }
            WriteSuppressed();
            Output.Flush();
        }
    }

    /// <summary>This second's share (approximate under races: a reset can overlap a few admissions).</summary>
    private static bool Admit()
    {
        long now = Environment.TickCount64 / 1000;
        if (Interlocked.Exchange(ref second, now) != now)
        {
            Interlocked.Exchange(ref admitted, 0);
        }
        return Interlocked.Increment(ref admitted) <= RefusalsPerSecond;
    }

    private static async Task WriteRefusals()
    {
        // One pending wait at a time; the one-second delay writes the summary after a flood ends.
        Task<bool>? ready = null;
        while (true)
        {
            ready ??= Refusals.Reader.WaitToReadAsync().AsTask();
            await Task.WhenAny(ready, Task.Delay(1000)).ConfigureAwait(false);
            if (ready.IsCompleted)
            {
                ready = null;
            }
            FlushRefusals();
        }
    }

    private static void WriteSuppressed()
    {
        long count = Interlocked.Exchange(ref suppressed, 0);
        if (count > 0)
        {
            Output.WriteLine(Line(DateTimeOffset.UtcNow, LogLevel.Warning, $"{count} more refusals suppressed (more than {RefusalsPerSecond} a second)", Format));
        }
    }

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
