// Runs one command line. Parse errors are usage errors (exit 2); TapirException and I/O or
// cryptographic failures are failures (exit 1); each is printed as one `tapir: error:` line.
using System.CommandLine;
using System.Security.Cryptography;

namespace Tapir.Cli;

public static class CommandLine
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = CommandTree.Build(output, error);
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors)
            {
                error.WriteLine($"tapir: error: {parseError.Message}");
            }
            error.WriteLine("Run 'tapir --help' for usage.");
            return ExitCodes.Usage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false,
                // ProcessSignals is the one owner of SIGTERM/SIGINT; System.CommandLine's own
                // handler would race it (and kill a draining core after its timeout).
                ProcessTerminationTimeout = null,
                Output = output,
                Error = error,
            });
        }
        catch (TapirException e)
        {
            error.WriteLine($"tapir: error: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            error.WriteLine($"tapir: error: {OneLine(e.Message)}");
            return ExitCodes.Failure;
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
