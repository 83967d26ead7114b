// Runs one command line. Parse errors and bad option values are usage errors (exit 2);
// TapirException and I/O or cryptographic failures are failures (exit 1); each is printed as one
// `tapir: error:` line. Anything else thrown, by a synchronous or an asynchronous action, is an
// internal error: still exit 1 and one line naming its type, never an abort with a stack trace.
using System.CommandLine;
using System.Security.Cryptography;

namespace Tapir.Cli;

public static class CommandLine
{
    public static int Run(string[] args, TextWriter output, TextWriter error) =>
        Run(CommandTree.Build(output, error), args, output, error);

    internal static int Run(RootCommand root, string[] args, TextWriter output, TextWriter error)
    {
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // One line, as every error (DESIGN §1): all parse errors joined, then where help is.
            string messages = string.Join("; ", parsed.Errors.Select(e => e.Message.ReplaceLineEndings(" ").Trim().TrimEnd('.')));
            error.WriteLine($"tapir: error: {messages} (see 'tapir --help').");
            return ExitCodes.Usage;
        }
        try
        {
            // An asynchronous action is awaited inside Invoke, so its exceptions arrive here too.
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
            error.WriteLine($"tapir: error: {OneLine(e.Message)}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            error.WriteLine($"tapir: error: {OneLine(e.Message)}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("tapir: error: interrupted.");
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            error.WriteLine($"tapir: error: internal error: {e.GetType().FullName}: {OneLine(e.Message)}");
            return ExitCodes.Failure;
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
