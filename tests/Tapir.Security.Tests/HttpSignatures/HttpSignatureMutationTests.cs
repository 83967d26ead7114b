// Mutation tests over Signature-Input, Signature, Content-Digest and covered component values:
// thousands of mutated messages, each refused with a Rejection or, when the mutation only changed
// white space the structured-field grammar ignores, accepted with the same signature parameters.
// Never an escaping exception. Also random garbage through every structured-field entry point.
using Tapir.Security.Encoding;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;
using Xunit.Abstractions;

namespace Tapir.Security.Tests.HttpSignatures;

public sealed class HttpSignatureMutationTests(ITestOutputHelper output)
{
    private static readonly Jwk Edge = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "edge1.example.net");
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    [Fact]
    public void MutatedSignedRequestsAreRefusedNeverThrown()
    {
        byte[] body = "aggregate"u8.ToArray();
        var request = new HttpMessage
        {
            Method = "POST", Target = "/api/v1/aggregate/histogram", Body = body,
            Fields = [new("Host", "core.example.net"), new("Content-Type", "application/binary"), new("Content-Length", "9"),
                      new("Content-Digest", ContentDigest.FieldValueOf(body, "sha-512"))],
        };
        var signature = HttpSigner.Sign(request, Edge, "edge1.example.net", Now);
        var signed = request.WithFields([new("Signature-Input", signature.SignatureInput), new("Signature", signature.Signature)]);
        var policy = HttpSignaturePolicy.Aggregates(TimeSpan.FromHours(1));
        var random = new Random(9421);
        int total = 0, accepted = 0;
        var reasons = new Dictionary<Rejection, int>();
        for (int i = 0; i < 12000; i++)
        {
            int target = random.Next(signed.Fields.Count);
            var fields = signed.Fields.ToList();
            string mutated = Mutate(fields[target].Value, random);
            if (mutated == fields[target].Value)
            {
                continue;
            }
            fields[target] = new(fields[target].Key, mutated);
            var message = new HttpMessage { Method = signed.Method, Target = signed.Target, Body = body, Fields = fields };
            total++;
            bool ok = HttpVerifier.TryVerify(message, policy, k => k == "edge1.example.net" ? Edge.PublicKey() : null, Now, out var verified, out var why);
            bool digestOk = new Func<bool>(() =>
            {
                using var digest = new ContentDigest();
                digest.Append(body);
                return digest.TryMatch(string.Join(", ", message.Values("content-digest")), out _);
            })();
            if (ok && digestOk)
            {
                // Only the uncovered Host field, or insignificant white space in the signature fields, can change.
                Assert.Contains(fields[target].Key, new[] { "Host", "Signature-Input", "Signature" });
                Assert.Equal(signature.SignatureInput, $"sig1={verified!.Parameters.Serialized}");
                accepted++;
            }
            else if (!ok)
            {
                Assert.NotEqual(Rejection.None, why);
                reasons[why] = reasons.GetValueOrDefault(why) + 1;
            }
        }
        output.WriteLine($"{total} mutated requests: {accepted} accepted (uncovered Host or white space only); refused: {string.Join(", ", reasons.OrderByDescending(r => r.Value).Select(r => $"{r.Key} {r.Value}"))}");
        Assert.True(total > 10000);
    }

    [Fact]
    public void GarbageThroughStructuredFieldParsersNeverThrows()
    {
        var random = new Random(8941);
        string alphabet = "abcz09-_.*;=,:()\"\\?@% \t/+AZ\u00e9";
        for (int i = 0; i < 20000; i++)
        {
            var chars = new char[random.Next(0, 24)];
            for (int j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }
            string text = new(chars);
            if (SfParser.TryParseDictionary(text, out var d))
            {
                Assert.True(SfSerializer.TrySerializeDictionary(d, out var again));
                Assert.True(SfParser.TryParseDictionary(again, out var d2));
                Assert.True(SfSerializer.TrySerializeDictionary(d2, out var third));
                Assert.Equal(again, third); // serialization is a fixed point
            }
            SfParser.TryParseList(text, out _);
            SfParser.TryParseItem(text, out _);
            ContentDigest.TryParse(text, out _, out _);
            ComponentIdentifier.TryParse(text, out _, out _);
        }
    }

    private static string Mutate(string text, Random random)
    {
        if (text.Length == 0)
        {
            return "x";
        }
        int at = random.Next(text.Length);
        return random.Next(7) switch
        {
            0 => text.Remove(at, 1),
            1 => text.Insert(at, text[at].ToString()),
            2 => text.Insert(at, " "),
            3 => text[..at],
            4 => text.Insert(at, ((char)random.Next(0x20, 0x7f)).ToString()),
            5 => text.Replace(text[at], (char)(text[at] ^ 1)),
            _ => text + ", " + text,
        };
    }
}
