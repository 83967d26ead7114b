// POST /api/v1/aggregate/{type} (DESIGN §5.1–5.3, §8.2, §8.6) against the real binary over real
// mTLS on 127.0.0.1: a valid submission is stored (inline or as a file) with everything
// re-verification needs and answered 201 + Location; a resubmission is idempotent; each bad input
// of issue 10 gets its exact status and reason, and nothing is stored and no file is left.
using System.Text.Json;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;

namespace Tapir.Tests.Aggregates;

public sealed class AggregateReceiverTests(AggregateCore fixture) : IClassFixture<AggregateCore>
{
    private const string Edge1 = "edge1.example.net";
    private const string Edge2 = "edge2.example.net";

    private static byte[] Random(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Fact]
    public void ValidSubmissionIsStoredInlineWithEverythingReverificationNeeds()
    {
        var submission = fixture.For(Edge1, Random(1000, 1));
        submission.Interval = "2026-11-29T10:00:00Z/PT1M";
        var response = fixture.Send(Edge1, submission);
        Assert.True(response.Status == 201, response.Body + fixture.Core.LogText);
        Assert.Matches("^/api/v1/aggregates/[A-Za-z0-9_-]{22}$", response.Location);
        string id = Id(response);
        Assert.Equal($"{{\"aggregate_id\":\"{id}\",\"location\":\"{response.Location}\"}}", response.Body);

        var row = fixture.Rows().Single(r => r.Id == id);
        var headers = submission.Headers();
        Assert.Equal(("histogram", Edge1, "application/binary", 1000L), (row.Type, row.Creator, row.ContentType, row.ContentLength));
        Assert.Equal(ContentDigest.FieldValueOf(submission.Body), row.ContentDigest);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(submission.Body), row.Sha256);
        Assert.Equal("2026-11-29T10:00:00Z/PT1M", row.Interval);
        Assert.Equal($"sig1={submission.SignatureParams}", row.SignatureInput);
        Assert.Equal(headers.Single(h => h.Name == "Signature").Value, row.Signature);
        Assert.Equal("sig1", row.SignatureLabel);
        Assert.Equal(submission.SignatureBase(), row.SignatureBase);
        using var components = JsonDocument.Parse(row.Components);
        Assert.Equal(
            ["\"content-type\"", "application/binary", "\"content-length\"", "1000", "\"content-digest\"", row.ContentDigest, "\"aggregate-interval\"", "2026-11-29T10:00:00Z/PT1M"],
            components.RootElement.EnumerateArray().SelectMany(pair => pair.EnumerateArray().Select(v => v.GetString()!)));
        Assert.Equal(Thumbprint.Compute(fixture.Key(Edge1).PublicKey()), row.DataKeyThumbprint);
        Assert.True(JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(row.DataKey), out var storedKey, out _));
        Assert.Equal(fixture.Key(Edge1).PublicKey().ToJson(), storedKey!.ToJson());
        Assert.Null(row.PayloadPath);
        Assert.Equal(submission.Body, fixture.InlinePayload(id));
        Assert.DoesNotContain(fixture.Files(), f => f.Contains(id, StringComparison.Ordinal));
        Assert.InRange(row.ReceivedAt, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        fixture.Core.AssertLogged($"aggregate {id} stored: histogram, 1000 bytes from {Edge1}");
    }

    [Fact]
    public void LargeBodyIsStoredAsAFileInItsDateFolder()
    {
        var submission = fixture.For(Edge2, Random((int)AggregateCore.InlineMax + 1, 2));
        submission.Target = "/api/v1/aggregate/vector";
        submission.ContentType = "application/vnd.apache.parquet";
        var response = fixture.Send(Edge2, submission);
        Assert.True(response.Status == 201, response.Body + fixture.Core.LogText);
        string id = Id(response);
        var row = fixture.Rows().Single(r => r.Id == id);
        var received = DateTimeOffset.FromUnixTimeMilliseconds(row.ReceivedAt);
        Assert.Equal($"aggregates/{received:yyyy}/{received:MM}/{received:dd}/{id}", row.PayloadPath);
        Assert.Equal(submission.Body, File.ReadAllBytes(Path.Combine(fixture.Core.StateDir, row.PayloadPath!)));
        Assert.Null(fixture.InlinePayload(id));
        Assert.DoesNotContain("alg=", row.SignatureInput, StringComparison.Ordinal); // Ed448 signs by key (RFC 9421 §3.3.7)
        Assert.DoesNotContain(fixture.Files(), f => f.Contains("tmp/", StringComparison.Ordinal));
    }

    [Fact]
    public void ResubmissionIsIdempotent()
    {
        foreach (int length in new[] { 500, (int)AggregateCore.InlineMax + 100 })
        {
            var body = Random(length, 3 + length);
            var first = fixture.Send(Edge1, fixture.For(Edge1, body));
            Assert.True(first.Status == 201, first.Body + fixture.Core.LogText);
            var rows = fixture.Rows().Count;
            var files = fixture.Files();
            var again = fixture.For(Edge1, body);
            again.Created = DateTimeOffset.UtcNow.AddSeconds(-5).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            var second = fixture.Send(Edge1, again);
            Assert.Equal((201, first.Location), (second.Status, second.Location));
            Assert.Equal(rows, fixture.Rows().Count);
            Assert.Equal(files, fixture.Files());
        }
    }

    /// <summary>Identical submissions at once (the same group commit, or racing ones): one row, one file, one Location for all.</summary>
    [Fact]
    public async Task ConcurrentIdenticalSubmissionsStoreOnce()
    {
        foreach (int length in new[] { 800, (int)AggregateCore.InlineMax + 800 })
        {
            var body = Random(length, 11 + length);
            int rows = fixture.Rows().Count;
            var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(() => fixture.Send(Edge1, fixture.For(Edge1, body)))));
            Assert.All(responses, r => Assert.Equal(201, r.Status));
            Assert.Single(responses.Select(r => r.Location).Distinct());
            Assert.Equal(rows + 1, fixture.Rows().Count);
            Assert.Equal(fixture.Rows().Where(r => r.PayloadPath is not null).Select(r => r.PayloadPath!).Order(), fixture.Files());
        }
    }

    /// <summary>The edm profile does not cover @path: a signed request replayed to another {type} finds its
    /// payload already stored for that creator and gets the original Location; no second row appears.</summary>
    [Fact]
    public void ReplayToAnotherTypeStoresNothingNew()
    {
        var submission = fixture.For(Edge1, Random(700, 4));
        var headers = submission.Headers();
        using var connection = new RawHttps(fixture.Core, fixture.Tls(Edge1));
        var first = connection.Send("/api/v1/aggregate/histogram", headers, submission.Body);
        Assert.Equal(201, first.Status);
        int rows = fixture.Rows().Count;
        var replay = connection.Send("/api/v1/aggregate/test", headers, submission.Body);
        Assert.Equal((201, first.Location), (replay.Status, replay.Location));
        Assert.Equal(rows, fixture.Rows().Count);
        Assert.Equal("histogram", fixture.Rows().Single(r => first.Location!.EndsWith(r.Id, StringComparison.Ordinal)).Type);
    }

    /// <summary>ConnectionPeer keeps the validated identity per connection: two kept-alive connections of two
    /// nodes, used in turn, are each their own node's (a keyid of the other node is refused on each).</summary>
    [Fact]
    public void EachKeptAliveConnectionKeepsItsOwnPeer()
    {
        using var one = new RawHttps(fixture.Core, fixture.Tls(Edge1));
        using var two = new RawHttps(fixture.Core, fixture.Tls(Edge2));
        for (int i = 0; i < 3; i++)
        {
            var own1 = fixture.For(Edge1, Random(300, 100 + i));
            var own2 = fixture.For(Edge2, Random(300, 200 + i));
            Assert.Equal(201, one.Send(own1.Target, own1.Headers(), own1.Body).Status);
            Assert.Equal(201, two.Send(own2.Target, own2.Headers(), own2.Body).Status);
            var other1 = fixture.For(Edge2, Random(300, 300 + i));
            var other2 = fixture.For(Edge1, Random(300, 400 + i));
            Assert.Equal((403, "{\"error\":\"keyid: must be the node's name\"}"), Answer(one.Send(other1.Target, other1.Headers(), other1.Body)));
            Assert.Equal((403, "{\"error\":\"keyid: must be the node's name\"}"), Answer(two.Send(other2.Target, other2.Headers(), other2.Body)));
        }
    }

    private static (int Status, string Body) Answer(RawResponse response) => (response.Status, response.Body);

    /// <summary>DESIGN §8.2, §8.4: once removed, a node's kept-alive connection gets 403 and a new one fails at the handshake.</summary>
    [Fact]
    public void RemovedNodeCanSubmitNothing()
    {
        const string Edge3 = "edge3.example.net";
        using var connection = new RawHttps(fixture.Core, fixture.Tls(Edge3));
        var before = fixture.For(Edge3, Random(300, 5));
        Assert.Equal(201, connection.Send(before.Target, before.Headers(), before.Body).Status);
        Assert.Equal(0, fixture.Core.Tapir("core", "node", "remove", Edge3).ExitCode);
        Thread.Sleep(1500); // the live-serial set is refreshed every 0.5 s
        int rows = fixture.Rows().Count;
        var files = fixture.Files();
        // No body: bytes the core never reads would turn its close into a reset that can overtake the answer.
        var after = fixture.For(Edge3, []);
        var refused = connection.Send(after.Target, after.Headers(), after.Body);
        Assert.Equal((403, "{\"error\":\"client certificate: client certificate refused\"}"), (refused.Status, refused.Body));
        Assert.ThrowsAny<Exception>(() =>
        {
            using var fresh = new RawHttps(fixture.Core, fixture.Tls(Edge3));
            fresh.Send(after.Target, after.Headers(), after.Body);
        });
        Assert.Equal(rows, fixture.Rows().Count);
        Assert.Equal(files, fixture.Files());
    }

    /// <summary>A client that sends less than Content-Length and closes: nothing stored, the temporary file removed.</summary>
    [Fact]
    public void BodyShorterThanContentLengthThenCloseLeavesNothing()
    {
        foreach (int length in new[] { 1000, (int)AggregateCore.InlineMax + 1000 })
        {
            int rows = fixture.Rows().Count;
            var files = fixture.Files();
            var s = fixture.For(Edge1, Random(length, 7 + length));
            s.ContentLength = (length + 500).ToString(System.Globalization.CultureInfo.InvariantCulture);
            using (var connection = new RawHttps(fixture.Core, fixture.Tls(Edge1)))
            {
                connection.Write(s.Target, s.Headers(), s.Body);
                connection.CloseSending();
                try
                {
                    connection.Read();
                }
                catch (IOException)
                {
                    // the core may close without an answer: nobody is left to read it
                }
            }
            // Kestrel may report the closed connection before the buffered bytes are read: the count read varies.
            fixture.Core.AssertLogged($" of {length + 500} bytes (");
            fixture.Core.AssertLogged("); nothing stored");
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (!fixture.Files().SequenceEqual(files) && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
            Assert.Equal(files, fixture.Files());
            Assert.Equal(rows, fixture.Rows().Count);
        }
    }

    public static TheoryData<string> BadInputs() =>
    [
        "no client certificate", "another node's certificate", "unknown keyid", "Content-Digest missing", "Content-Digest wrong",
        "Content-Digest on two lines", "Content-Digest key twice", "Content-Digest unsupported", "body longer than Content-Length",
        "chunked body", "Content-Length missing", "covered component missing", "content-digest not covered", "aggregate-interval not covered",
        "unknown signature parameter", "two signatures", "two Signature-Input fields", "component listed twice", "created in the future",
        "created too old", "created negative", "created decimal", "created above 2^53", "hmac-sha256", "alg not matching the key",
        "signature of other bytes", "type ..", "type %2e%2e", "type of 10 kB", "unknown type", "oversize body", "content type not configured",
        "malformed Aggregate-Interval",
    ];

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputIsRefusedWithItsExactAnswerAndLeavesNothing(string name)
    {
        var body = Random(2000, name.Length * 7919 + name[0]);
        var s = fixture.For(Edge1, body);
        string node = Edge1;
        bool certificate = true;
        (int Status, string? Error) expected = name switch
        {
            "no client certificate" => Set(() => certificate = false, 401, "a tapir client certificate is required"),
            "another node's certificate" => Set(() => node = Edge2, 403, "keyid: must be the node's name"),
            "unknown keyid" => Set(() => s.KeyId = "nobody.example.net", 403, "keyid: must be the node's name"),
            "Content-Digest missing" => Set(() => s.AfterSigning = h => h.Where(f => f.Name != "Content-Digest").ToList(), 400, "Content-Digest: required member or parameter missing"),
            "Content-Digest wrong" => Set(() => s.ContentDigest = ContentDigest.FieldValueOf([1, 2, 3]), 400, "Content-Digest: digest mismatch"),
            "Content-Digest on two lines" => Set(() => s.AfterSigning = h => [.. h, ("Content-Digest", h.Single(f => f.Name == "Content-Digest").Value)], 400, "Content-Digest: duplicate member"),
            "Content-Digest key twice" => Set(() => s.ContentDigest = $"{ContentDigest.FieldValueOf(body)}, {ContentDigest.FieldValueOf(body)}", 400, "Content-Digest: duplicate member"),
            "Content-Digest unsupported" => Set(() => s.ContentDigest = "md5=:1B2M2Y8AsgTpgAmY7PhCfg==:", 400, "Content-Digest: algorithm or key type not allowed"),
            "body longer than Content-Length" => Set(() => { s.ContentDigest = ContentDigest.FieldValueOf(body); s.ContentLength = "1990"; }, 400, "Content-Digest: digest mismatch"),
            "chunked body" => Set(() => { s.AfterSigning = h => [.. h.Where(f => f.Name != "Content-Length"), ("Transfer-Encoding", "chunked")]; s.Body = Chunked(body); }, 400, "Transfer-Encoding: member or parameter not allowed"),
            "Content-Length missing" => Set(() => s.AfterSigning = h => h.Where(f => f.Name != "Content-Length").ToList(), 400, "Content-Length: required member or parameter missing"),
            "covered component missing" => Set(() => s.Components = "\"content-type\" \"content-length\" \"content-digest\" \"x-not-sent\"", 400, "signature: required component missing"),
            "content-digest not covered" => Set(() => s.Components = "\"content-type\" \"content-length\"", 400, "signature: required component missing"),
            "aggregate-interval not covered" => Set(() => { s.Interval = "2026-11-29T10:00:00Z/PT1M"; s.Components = "\"content-type\" \"content-length\" \"content-digest\""; }, 400, "signature: required component missing"),
            "unknown signature parameter" => Set(() => s.ExtraParameters = ";foo=1", 400, "signature: member or parameter not allowed"),
            "two signatures" => Set(() => s.AfterSigning = h => [.. h.Select(f => f.Name switch
            {
                "Signature-Input" => (f.Name, $"{f.Value}, sig2={s.SignatureParams}"),
                "Signature" => (f.Name, $"{f.Value}, sig2=:{s.SignatureValue}:"),
                _ => f,
            })], 400, "signature: wrong number of signatures"),
            "two Signature-Input fields" => Set(() => s.AfterSigning = h => [.. h, ("Signature-Input", $"sig2={s.SignatureParams}")], 400, "Signature-Input: duplicate member"),
            "component listed twice" => Set(() => s.Components = "\"content-type\" \"content-length\" \"content-digest\" \"content-type\"", 400, "signature: duplicate member"),
            "created in the future" => Set(() => s.Created = Unix(DateTimeOffset.UtcNow.AddSeconds(120)), 400, "signature: too far in the future"),
            "created too old" => Set(() => s.Created = Unix(DateTimeOffset.UtcNow.AddHours(-25)), 400, "signature: too old"),
            "created negative" => Set(() => s.Created = "-1", 400, "signature: malformed"),
            "created decimal" => Set(() => s.Created = $"{Unix(DateTimeOffset.UtcNow)}.5", 400, "signature: malformed"),
            "created above 2^53" => Set(() => s.Created = "9007199254740993", 400, "signature: malformed"),
            "hmac-sha256" => Set(() => s.Alg = "hmac-sha256", 400, "signature: algorithm or key type not allowed"),
            "alg not matching the key" => Set(() => s.Alg = "ecdsa-p256-sha256", 400, "signature: algorithm does not fit the key"),
            "signature of other bytes" => Set(() => s.AfterSigning = h => [.. h.Select(f => f.Name == "Signature" ? (f.Name, $"sig1=:{Convert.ToBase64String(JwsCrypto.Sign(s.Key, JwsAlgorithm.EdDSA, [1]))}:") : f)], 401, "signature: signature does not verify"),
            "type .." => Set(() => s.Target = "/api/v1/aggregate/..", 404, "no such endpoint"),
            "type %2e%2e" => Set(() => s.Target = "/api/v1/aggregate/%2e%2e", 404, "no such endpoint"),
            "type of 10 kB" => Set(() => s.Target = "/api/v1/aggregate/" + new string('a', 10_000), 414, null),
            "unknown type" => Set(() => s.Target = "/api/v1/aggregate/nosuch", 404, "no such aggregate type"),
            "oversize body" => Set(() => { s.ContentLength = (AggregateCore.MaxBytes + 1).ToString(System.Globalization.CultureInfo.InvariantCulture); s.Body = []; }, 413, "body: too large"),
            "content type not configured" => Set(() => s.ContentType = "text/plain", 415, "Content-Type: not accepted"),
            "malformed Aggregate-Interval" => Set(() => s.Interval = "2026-11-29T10:00:00Z/1 minute", 400, "Aggregate-Interval: malformed"),
            _ => throw new ArgumentException(name),
        };
        int rows = fixture.Rows().Count;
        var files = fixture.Files();
        var response = fixture.Send(node, s, certificate);
        Assert.True(expected.Status == response.Status, $"{name}: {response.Status} {response.Body}\n{fixture.Core.LogText}");
        if (expected.Error is not null)
        {
            Assert.Equal($"{{\"error\":\"{expected.Error}\"}}", response.Body);
        }
        Assert.Equal(rows, fixture.Rows().Count);
        Assert.Equal(files, fixture.Files());
    }

    private static string Id(RawResponse response) => response.Location![(response.Location!.LastIndexOf('/') + 1)..];

    private static (int, string?) Set(Action change, int status, string? error)
    {
        change();
        return (status, error);
    }

    private static byte[] Chunked(byte[] body) =>
        [.. System.Text.Encoding.ASCII.GetBytes($"{body.Length:x}\r\n"), .. body, .. "\r\n0\r\n\r\n"u8];

    private static string Unix(DateTimeOffset time) => time.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
}
