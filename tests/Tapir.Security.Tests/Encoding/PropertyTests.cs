// Round-trip property tests and mutation tests for the parsers not covered elsewhere (STYLE:
// each parser gets both): base64url, HTTP/1.1 message text (plain and chunked bodies), enrollment
// payloads and CSRs.
// Mutated input must be refused cleanly (false with a reason), never by an escaping exception.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapir.Cli;
using Tapir.Security.Encoding;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;
using Tapir.Security.Pki;

namespace Tapir.Security.Tests.Encoding;

public sealed class PropertyTests
{
    [Fact]
    public void Base64UrlRoundTripsAndHasOneSpelling()
    {
        var random = new Random(4648);
        for (int i = 0; i < 3000; i++)
        {
            byte[] data = new byte[random.Next(0, 300)];
            random.NextBytes(data);
            string text = Base64Url.Encode(data);
            Assert.True(Base64Url.TryDecode(text, out var back));
            Assert.Equal(data, back);
            if (text.Length > 0)
            {
                // Any single-character change either fails or decodes to different bytes.
                var chars = text.ToCharArray();
                int at = random.Next(chars.Length);
                chars[at] = (char)random.Next(0x20, 0x7f);
                string mutated = new(chars);
                if (mutated != text && Base64Url.TryDecode(mutated, out var other))
                {
                    Assert.NotEqual(data, other);
                }
            }
        }
    }

    [Fact]
    public void HttpMessageTextRoundTrips()
    {
        var random = new Random(9110);
        for (int i = 0; i < 500; i++)
        {
            byte[] body = new byte[random.Next(0, 64)];
            random.NextBytes(body);
            var message = new HttpMessage
            {
                Method = "POST",
                Target = $"/api/v1/aggregate/t{i}?q={i}",
                Fields = [new("Host", "core.example.net"), new("X-Value", $"v{random.Next()}"), new("Content-Length", body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))],
                Body = body,
            };
            byte[] text = HttpMessageText.Write(message);
            Assert.True(HttpMessageText.TryParse(text, "https", out var parsed));
            Assert.Equal(message.Method, parsed.Method);
            Assert.Equal(message.Target, parsed.Target);
            Assert.Equal(message.Fields, parsed.Fields);
            Assert.Equal(body, parsed.Body);
            // Mutations: clean refusal or a parse, never an exception.
            for (int m = 0; m < 20; m++)
            {
                byte[] mutated = (byte[])text.Clone();
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
                HttpMessageText.TryParse(mutated[..random.Next(mutated.Length + 1)], "https", out _);
            }
        }
    }

    [Fact]
    public void ChunkedHttpMessagesRoundTripAndMutationsAreRefusedCleanly()
    {
        var random = new Random(9112);
        for (int i = 0; i < 500; i++)
        {
            byte[] body = new byte[random.Next(0, 200)];
            random.NextBytes(body);
            var (raw, sizeLines) = Chunked(body, random, trailer: $"t{i}");
            Assert.True(HttpMessageText.TryParse(raw, "https", out var parsed));
            Assert.Equal(body, parsed.Body);
            Assert.Equal([$"t{i}"], parsed.Values("x-trailer", trailers: true));
            // Random byte mutations and truncations: a parse or a clean refusal, never an exception.
            for (int m = 0; m < 20; m++)
            {
                byte[] mutated = (byte[])raw.Clone();
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
                HttpMessageText.TryParse(mutated[..random.Next(mutated.Length + 1)], "https", out _);
            }
            // Any chunk size beyond the rest of the input is refused, up to the largest sizes
            // (7fffffff overflowed the position arithmetic).
            var (at, length) = sizeLines[random.Next(sizeLines.Count)];
            foreach (string size in new[] { "7fffffff", "7ffffff0", "ffffffff", "80000000", "fffffffffffffffff", $"{raw.Length - at:x}", $"{random.Next(raw.Length, int.MaxValue):x}" })
            {
                byte[] resized = [.. raw[..at], .. System.Text.Encoding.ASCII.GetBytes(size), .. raw[(at + length)..]];
                Assert.False(HttpMessageText.TryParse(resized, "https", out _), size);
            }
        }
    }

    /// <summary>A POST with the body in random chunks (random hex case, some extensions) and one trailer; the offsets and lengths of the size numbers.</summary>
    private static (byte[] Raw, List<(int At, int Length)> SizeLines) Chunked(byte[] body, Random random, string trailer)
    {
        var raw = new List<byte>(System.Text.Encoding.ASCII.GetBytes("POST /api/v1/aggregate/t HTTP/1.1\r\nHost: core.example.net\r\nTransfer-Encoding: chunked\r\n\r\n"));
        var sizes = new List<(int, int)>();
        for (int pos = 0; pos < body.Length;)
        {
            int n = Math.Min(body.Length - pos, random.Next(1, 70));
            string hex = random.Next(2) == 0 ? n.ToString("x", System.Globalization.CultureInfo.InvariantCulture) : n.ToString("X", System.Globalization.CultureInfo.InvariantCulture);
            sizes.Add((raw.Count, hex.Length));
            raw.AddRange(System.Text.Encoding.ASCII.GetBytes(hex + (random.Next(4) == 0 ? ";ext=1" : "") + "\r\n"));
            raw.AddRange(body.AsSpan(pos, n).ToArray());
            raw.AddRange("\r\n"u8.ToArray());
            pos += n;
        }
        sizes.Add((raw.Count, 1));
        raw.AddRange(System.Text.Encoding.ASCII.GetBytes($"0\r\nX-Trailer: {trailer}\r\n\r\n"));
        return (raw.ToArray(), sizes);
    }

    [Fact]
    public void MutatedEnrollmentPayloadsAndCsrsAreRefusedCleanly()
    {
        var random = new Random(2986);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=edge1.example.net", key, HashAlgorithmName.SHA256);
        string csr = request.CreateSigningRequestPem();
        var dataKey = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "edge1.example.net");
        string payload = $$"""{"timestamp":"2026-11-29T10:00:00+00:00","x509_csr":{{System.Text.Json.JsonSerializer.Serialize(csr, Tapir.Security.Tests.TestJson.Default.String)}},"public_key":{{dataKey.PublicKey().ToJson()}},"x509_lifetime":86400}""";
        Assert.True(EnrollmentPayload.TryParse(System.Text.Encoding.UTF8.GetBytes(payload), true, out var parsed, out _));
        Assert.True(CsrRules.TryAuthorize(parsed.CsrPem, "edge1.example.net", false, out _, out _));
        int refusedPayloads = 0, refusedCsrs = 0;
        for (int i = 0; i < 3000; i++)
        {
            var p = payload.ToCharArray();
            p[random.Next(p.Length)] = (char)random.Next(0x20, 0x7f);
            if (!EnrollmentPayload.TryParse(System.Text.Encoding.UTF8.GetBytes(new string(p)), true, out _, out var why))
            {
                Assert.NotEqual(Tapir.Security.Rejection.None, why);
                refusedPayloads++;
            }
            var c = csr.ToCharArray();
            int at = random.Next(c.Length);
            c[at] = (char)random.Next(0x20, 0x7f);
            if (!CsrRules.TryAuthorize(new string(c), "edge1.example.net", false, out _, out var reason))
            {
                Assert.NotEqual(Tapir.Security.Rejection.None, reason);
                refusedCsrs++;
            }
        }
        // Most payload mutations land inside the CSR text, which only CsrRules judges.
        Assert.True(refusedPayloads > 600 && refusedCsrs > 2500, $"{refusedPayloads} payloads, {refusedCsrs} CSRs refused");
    }
}

public sealed class ChunkedBodyTests
{
    [Fact]
    public void ChunkedBodiesAreDecodedByteExactly()
    {
        string raw = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab\r\nc\r\n3;ext=1\r\n\n\r\n\r\n0\r\nExpires: soon\r\n\r\n";
        Assert.True(HttpMessageText.TryParse(System.Text.Encoding.Latin1.GetBytes(raw), "https", out var message));
        Assert.Equal("ab\r\nc\n\r\n", System.Text.Encoding.Latin1.GetString(message.Body));
        Assert.Equal(["soon"], message.Values("expires", trailers: true));
        Assert.False(HttpMessageText.TryParse(System.Text.Encoding.Latin1.GetBytes(raw.Replace("5\r\nab", "4\r\nab", StringComparison.Ordinal)), "https", out _));
        Assert.False(HttpMessageText.TryParse(System.Text.Encoding.Latin1.GetBytes(raw.Replace("0\r\nExpires", "zz\r\nExpires", StringComparison.Ordinal)), "https", out _));
    }

    [Theory]
    [InlineData("7fffffff")]
    [InlineData("7FFFFFFF;ext=1")]
    [InlineData("7ffffffe")]
    [InlineData("10")]
    public void ChunkSizeBeyondTheInputIsRefused(string sizeLine)
    {
        string raw = $"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n{sizeLine}\r\nab\r\n0\r\n\r\n";
        Assert.False(HttpMessageText.TryParse(System.Text.Encoding.Latin1.GetBytes(raw), "https", out var message));
        Assert.Null(message);
    }
}
