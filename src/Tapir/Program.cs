// Entry point: builds the command tree, runs one command, and turns every failure into the
// exit codes of DESIGN §1 (0 success, 1 failure, 2 usage) with one `tapir: error:` line on stderr.
using Tapir.Cli;

namespace Tapir;

public static class Program
{
    public static int Main(string[] args)
    {
        TextWriter output;
        try
        {
            output = Console.Out;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Started with stdout closed (`>&-`): the runtime cannot open it at all.
            Console.Error.WriteLine("tapir: error: standard output is closed.");
            return ExitCodes.Failure;
        }
        try
        {
            return CommandLine.Run(args, output, Console.Error);
        }
        catch (Exception e)
        {
            // The command boundary catches everything a command throws; this is the parser's.
            Console.Error.WriteLine($"tapir: error: internal error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
            return ExitCodes.Failure;
        }
    }
}
