// One-line logs on stderr: UTC time, level, message. Peers are named by node name; secrets never
// appear. Enough for a daemon under systemd, which adds its own metadata. Refusals of untrusted
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
        if (!Admit() || !Refusals.Writer.TryWrite(Format(LogLevel.Warning, message)))
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
            Output.WriteLine(Format(LogLevel.Warning, $"{count} more refusals suppressed (more than {RefusalsPerSecond} a second)"));
        }
    }

    private static string Format(LogLevel level, string message) =>
        $"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {level.ToString().ToLowerInvariant(),-7} {message.ReplaceLineEndings(" ")}";

    private static void Write(LogLevel level, string message)
    {
        if (level < Level)
        {
            return;
        }
        string line = Format(level, message);
        lock (Gate)
        {
            Output.WriteLine(line);
            Output.Flush();
        }
    }
}
