// Regression tests for the inputs the afl++ fuzzer (fuzz/, `make fuzz`) found, each one minimized
// with afl-tmin and kept byte-exact under tests/vectors/fuzz/<target>/. Every parser must refuse
// them with its exact Rejection and no out value: never throw, never hand back a refused value.
using Tapir.Security.Encoding;

namespace Tapir.Security.Tests.Fuzz;

public sealed class FuzzRegressionTests
{
    private static string Latin1(string name) => System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(Vectors.PathOf("fuzz/" + name)));

    [Fact]
    public void StrictDictionaryWithDuplicateKeyHandsBackNoDictionary()
    {
        // "*,*": a dictionary whose key "*" appears twice. The refusal used to come with the
        // parsed dictionary still in the out parameter.
        string text = Latin1("SfParser/strict-dictionary-duplicate-key");
        Assert.False(SfParser.TryParseStrictDictionary(text, out var dictionary, out var why));
        Assert.Equal(Rejection.DuplicateMember, why);
        Assert.Null(dictionary);
    }
}
