// Process exit codes (DESIGN §1).
namespace Tapir;

public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;

    /// <summary>core publish, core node configure, core key rotate/retire: done and the signed message durably queued, but no running core published it within --wait.</summary>
    public const int Queued = 3;
}
