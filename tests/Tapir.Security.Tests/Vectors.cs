// Locates the conformance data under tests/vectors and reads it as JSON.
using System.Text.Json;

namespace Tapir.Security.Tests;

internal static class Vectors
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, "tests", "vectors", relative);

    public static JsonDocument Load(string relative) => JsonDocument.Parse(File.ReadAllBytes(PathOf(relative)));

    public static byte[] Hex(string hex) => Convert.FromHexString(hex);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "tapir.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("tapir.sln not found above " + AppContext.BaseDirectory);
    }
}
