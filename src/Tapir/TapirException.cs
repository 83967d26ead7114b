// The one exception type the host throws for failures the user must see: bad configuration,
// refused files, unreachable peers. It is caught once, at the command boundary (CommandLine.Run).
namespace Tapir;

public sealed class TapirException : Exception
{
    public TapirException(string message) : base(message) { }

    public TapirException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The process exit code: 1 for failures, 2 for usage errors.</summary>
    public int ExitCode { get; init; } = ExitCodes.Failure;
}
