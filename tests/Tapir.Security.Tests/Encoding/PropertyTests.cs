// Round-trip property tests and mutation tests for the parsers not covered elsewhere (STYLE:
// each parser gets both): base64url, HTTP/1.1 message text, enrollment payloads and CSRs.
// Mutated input must be refused cleanly (false with a reason), never by an escaping exception.
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
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
            Assert.Equal(message.Method, parsed!.Method);
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
    public void MutatedEnrollmentPayloadsAndCsrsAreRefusedCleanly()
    {
        var random = new Random(2986);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=edge1.example.net", key, HashAlgorithmName.SHA256);
        string csr = request.CreateSigningRequestPem();
        var dataKey = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "edge1.example.net");
        string payload = $$"""{"timestamp":"2026-11-29T10:00:00+00:00","x509_csr":{{System.Text.Json.JsonSerializer.Serialize(csr, Tapir.Security.Tests.TestJson.Default.String)}},"public_key":{{dataKey.PublicKey().ToJson()}},"x509_lifetime":86400}""";
        Assert.True(EnrollmentPayload.TryParse(System.Text.Encoding.UTF8.GetBytes(payload), true, out var parsed, out _));
        Assert.True(CsrRules.TryAuthorize(parsed!.CsrPem, "edge1.example.net", false, out _, out _));
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
        Assert.True(Tapir.Security.HttpSignatures.HttpMessageText.TryParse(System.Text.Encoding.Latin1.GetBytes(raw), "https", out var message));
        Assert.Equal("ab\r\nc\n\r\n", System.Text.Encoding.Latin1.GetString(message!.Body));
        Assert.Equal(["soon"], message.Values("expires", trailers: true));
        Assert.False(Tapir.Security.HttpSignatures.HttpMessageText.TryParse(System.Text.Encoding.Latin1.GetBytes(raw.Replace("5\r\nab", "4\r\nab", StringComparison.Ordinal)), "https", out _));
        Assert.False(Tapir.Security.HttpSignatures.HttpMessageText.TryParse(System.Text.Encoding.Latin1.GetBytes(raw.Replace("0\r\nExpires", "zz\r\nExpires", StringComparison.Ordinal)), "https", out _));
    }
}
