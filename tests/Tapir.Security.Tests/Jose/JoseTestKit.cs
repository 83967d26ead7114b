// Small helpers shared by the JOSE tests.
using System.Text;
using System.Text.Json;
using Tapir.Security.Jose;

namespace Tapir.Security.Tests.Jose;

internal static class JoseTestKit
{
    public static readonly IReadOnlySet<JwsAlgorithm> AllAlgorithms = JwsAlgorithms.All.ToHashSet();

    public static Jwk Key(JsonElement json)
    {
        Assert.True(JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(json.GetRawText()), out var key, out var why), $"key refused: {why}");
        return key;
    }

    public static JwsMessage Parse(string text)
    {
        Assert.True(JwsParser.TryParse(System.Text.Encoding.UTF8.GetBytes(text), JwsParser.DefaultMaxBytes, out var message, out var why), $"JWS refused: {why}");
        return message;
    }

    public static Rejection Refusal(string text)
    {
        Assert.False(JwsParser.TryParse(System.Text.Encoding.UTF8.GetBytes(text), JwsParser.DefaultMaxBytes, out _, out var why));
        return why;
    }

    /// <summary>Verifies every signature of a JWS, each with the key the selector picks.</summary>
    public static void VerifyAll(JwsMessage message, Func<JwsSignature, int, Jwk> keyFor)
    {
        for (int i = 0; i < message.Signatures.Count; i++)
        {
            var signature = message.Signatures[i];
            Assert.True(JwsVerifier.TryVerifySignature(message, signature, keyFor(signature, i), AllAlgorithms, out var why), $"signature {i} refused: {why}");
        }
    }

    public static string Str(this JsonElement e, string name) => e.GetProperty(name).GetString()!;
}
