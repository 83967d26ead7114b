// One-line logs on stderr: UTC time, level, message. Peers are named by node name; secrets never
// appear. Enough for a daemon under systemd, which adds its own metadata.
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
    private static readonly Lock Gate = new();

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

    private static void Write(LogLevel level, string message)
    {
        if (level < Level)
        {
            return;
        }
        string line = $"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {level.ToString().ToLowerInvariant(),-7} {message.ReplaceLineEndings(" ")}";
        lock (Gate)
        {
            Output.WriteLine(line);
            Output.Flush();
        }
    }
}
