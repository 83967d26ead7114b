// Mutation tests: valid JWSs and JWKs are mutated many thousands of times (bit flips, deletions,
// duplications, truncation, alg swaps, re-encodings with padding, member drops and repeats).
// Every outcome must be a clean accept or a Rejection, never an escaping exception; a mutated
// compact JWS is never accepted, and a mutated JSON JWS is accepted only with the original payload.
using System.Text;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;
using Xunit.Abstractions;

namespace Tapir.Security.Tests.Jose;

public sealed class JoseMutationTests(ITestOutputHelper output)
{
    private const int MutationsPerInput = 1500;

    private static readonly Jwk[] Keys =
    [
        JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed25519", "ed"),
        JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed448", "ed448"),
        JwkGenerator.Generate(JwsAlgorithm.ES256, kid: "ec"),
        JwkGenerator.Generate(JwsAlgorithm.PS256, kid: "rsa"),
    ];

    [Fact]
    public void MutatedJwsAreRefusedNeverThrown()
    {
        var random = new Random(20261129);
        byte[] payload = "{\"type\":\"status\",\"up\":true}"u8.ToArray();
        var policy = new JwsPolicy(JwsAlgorithms.All.ToHashSet(), new JwkSet(Keys.Select(k => k.PublicKey())));
        int total = 0, accepted = 0;
        var counts = new Dictionary<Rejection, int>();
        foreach (var key in Keys)
        {
            foreach (var original in new[] { JwsSigner.Compact(payload, key), JwsSigner.Flattened(payload, key), JwsSigner.General(payload, [key, Keys[0]]) })
            {
                for (int i = 0; i < MutationsPerInput; i++)
                {
                    string mutated = Mutate(original, random);
                    if (mutated == original)
                    {
                        continue;
                    }
                    total++;
                    bool ok = JwsVerifier.TryVerify(System.Text.Encoding.UTF8.GetBytes(mutated), policy, out var verified, out var why);
                    if (ok)
                    {
                        Assert.False(original[0] != '{', $"mutated compact JWS accepted: {mutated}");
                        Assert.Equal(payload, verified!.Payload);
                        accepted++;
                    }
                    else
                    {
                        Assert.NotEqual(Rejection.None, why);
                        counts[why] = counts.GetValueOrDefault(why) + 1;
                    }
                }
            }
        }
        output.WriteLine($"{total} mutated JWS: {accepted} accepted (JSON white space or member order only), refused: " +
            string.Join(", ", counts.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value}")));
        Assert.True(total > 15000);
    }

    [Fact]
    public void MutatedJwksAreRefusedNeverThrown()
    {
        var random = new Random(7638);
        int total = 0, refused = 0;
        foreach (var key in Keys.Append(JwkGenerator.Generate(JwsAlgorithm.HS256, kid: "h")))
        {
            foreach (var original in key.IsSymmetric ? [key.ToJson(includePrivate: true)] : new[] { key.ToJson(), key.ToJson(includePrivate: true) })
            {
                for (int i = 0; i < MutationsPerInput; i++)
                {
                    string mutated = Mutate(original, random);
                    total++;
                    if (!JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(mutated), out _, out var why))
                    {
                        Assert.NotEqual(Rejection.None, why);
                        refused++;
                    }
                }
            }
        }
        output.WriteLine($"{total} mutated JWKs: {refused} refused, the rest still valid keys");
        Assert.True(total > 10000);
    }

    private static string Mutate(string text, Random random)
    {
        int at = random.Next(text.Length);
        switch (random.Next(10))
        {
            case 0: // flip one bit of one character
                var chars = text.ToCharArray();
                chars[at] = (char)(chars[at] ^ (1 << random.Next(7)));
                return new string(chars);
            case 1: // delete a span
                return text.Remove(at, Math.Min(random.Next(1, 4), text.Length - at));
            case 2: // duplicate a span
                int length = Math.Min(random.Next(1, 12), text.Length - at);
                return text.Insert(at, text.Substring(at, length));
            case 3: // truncate
                return text[..at];
            case 4: // swap the algorithm inside the first protected header
                return SwapAlg(text, random);
            case 5: // pad a base64url segment
                return text.Insert(NextBoundary(text, at), "=");
            case 6: // standard base64 alphabet
                return text.Replace('-', '+').Replace('_', '/');
            case 7: // repeat the first JSON member
                int colon = text.IndexOf(':');
                int comma = text.IndexOf(',');
                return text[0] == '{' && colon > 0 && comma > colon ? text.Insert(1, text[1..(comma + 1)]) : text + " ";
            case 8: // drop a JSON member
                int start = text.IndexOf(",\"", at, StringComparison.Ordinal);
                int end = start < 0 ? -1 : text.IndexOf(",\"", start + 1, StringComparison.Ordinal);
                return start > 0 && end > start ? text.Remove(start, end - start) : text[..^1];
            default: // insert a random printable character
                return text.Insert(at, ((char)random.Next(0x20, 0x7f)).ToString());
        }
    }

    private static int NextBoundary(string text, int from)
    {
        int dot = text.IndexOfAny(['.', '"'], from);
        return dot < 0 ? text.Length : dot;
    }

    private static string SwapAlg(string text, Random random)
    {
        int dot = text.IndexOf('.');
        if (text[0] == '{' || dot < 0)
        {
            return text.Replace("\"protected\":\"eyJhbGciOiJFZERTQSI", "\"protected\":\"eyJhbGciOiJIUzI1NiI");
        }
        string[] algs = ["none", "HS256", "ES256", "EdDSA", "RS256", "PS512", "ES512"];
        Assert.True(Base64Url.TryDecode(text.AsSpan(0, dot), out var header));
        string json = System.Text.Encoding.UTF8.GetString(header);
        int a = json.IndexOf("\"alg\":\"", StringComparison.Ordinal) + 7;
        int b = json.IndexOf('"', a);
        string swapped = json[..a] + algs[random.Next(algs.Length)] + json[b..];
        return Base64Url.Encode(System.Text.Encoding.UTF8.GetBytes(swapped)) + text[dot..];
    }
}
