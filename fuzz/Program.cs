// The afl++ entry point for one fuzz target per public Tapir.Security parser (and the host's
// HttpMessageText). Each target checks the parsers' contract on untrusted input: it returns false
// (with a Rejection) or true with a value, and never throws. Any exception escaping a target is a
// crash for afl++.
// Usage: dotnet Tapir.Fuzz.dll <target> (input on stdin); `list` prints the target names.
using SharpFuzz;

namespace Tapir.Fuzz;

public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 1 || args[0] == "list" || !Targets.All.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine($"usage: dotnet Tapir.Fuzz.dll <{string.Join('|', Targets.All.Keys)}> < input");
            return args is ["list"] ? 0 : 2;
        }
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            target(buffer.ToArray());
        });
        return 0;
    }
}
