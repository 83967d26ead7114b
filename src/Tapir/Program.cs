// Entry point: builds the command tree, runs one command, and turns every failure into the
// exit codes of DESIGN §1 (0 success, 1 failure, 2 usage) with one `tapir: error:` line on stderr.
using Tapir.Cli;

namespace Tapir;

public static class Program
{
    public static int Main(string[] args) => CommandLine.Run(args, Console.Out, Console.Error);
}
