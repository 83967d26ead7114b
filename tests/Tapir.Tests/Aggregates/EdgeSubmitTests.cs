// `tapir edge submit` (DESIGN §5.1, §5.2) with the real binary against a real core over mTLS:
// Ed25519 (alg="ed25519") and Ed448 (no alg, signs by key) keys, a large file streamed into its
// payload file, an interval that is signed and stored, an idempotent resubmission, and refusals
// printed with the core's reason and exit 1; every attempt is in the outbound audit log.
namespace Tapir.Tests.Aggregates;

public sealed class EdgeSubmitTests(AggregateCore fixture) : IClassFixture<AggregateCore>
{
    private string WriteFile(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        string path = fixture.Core.File($"aggregate-{seed}.bin");
        File.WriteAllBytes(path, data);
        return path;
    }

    private ProcessResult Submit(string node, params string[] args) =>
        fixture.Core.Tapir(["edge", "submit", .. args, "--state", fixture.EdgeDir(node)]);

    [Theory]
    [InlineData("edge1.example.net", "alg=\"ed25519\";keyid=\"edge1.example.net\"")]
    [InlineData("edge2.example.net", ";keyid=\"edge2.example.net\"")]
    public void SubmitStoresTheAggregateAndPrintsItsLocation(string node, string parametersEnd)
    {
        string file = WriteFile(3000, node.Length + 10 * node[4]);
        var r = Submit(node, file, "--type", "histogram", "--interval", "2026-11-29T10:00:00Z/PT5M");
        Assert.True(r.ExitCode == 0, r.Stderr + fixture.Core.LogText);
        Assert.Matches("^/api/v1/aggregates/[A-Za-z0-9_-]{22}\n$", r.Stdout);
        var row = fixture.Rows().Single(a => r.Stdout.TrimEnd().EndsWith(a.Id, StringComparison.Ordinal));
        Assert.Equal((node, "histogram", "application/vnd.apache.parquet", 3000L, "2026-11-29T10:00:00Z/PT5M"),
            (row.Creator, row.Type, row.ContentType, row.ContentLength, row.Interval));
        Assert.StartsWith("sig1=(\"content-type\" \"content-length\" \"content-digest\" \"aggregate-interval\");created=", row.SignatureInput);
        Assert.EndsWith(parametersEnd, row.SignatureInput);
        Assert.Equal(File.ReadAllBytes(file), fixture.InlinePayload(row.Id));

        var again = Submit(node, file, "--type", "histogram", "--interval", "2026-11-29T10:00:00Z/PT5M");
        Assert.Equal((0, r.Stdout), (again.ExitCode, again.Stdout));
        Assert.Single(fixture.Rows(), a => a.Id == row.Id);
    }

    [Fact]
    public void EverySubmissionIsInTheOutboundAuditLog()
    {
        string file = WriteFile(1234, 4242);
        string sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file)));
        var stored = Submit("edge1.example.net", file, "--type", "test", "--content-type", "application/binary");
        Assert.True(stored.ExitCode == 0, stored.Stderr);
        var refused = Submit("edge1.example.net", file, "--type", "nosuch");
        Assert.Equal(1, refused.ExitCode);
        string url = $"{fixture.Core.BaseUrl}api/v1/aggregate/";
        var table = fixture.Core.Tapir("edge", "audit", "--state", fixture.EdgeDir("edge1.example.net"));
        Assert.Equal(0, table.ExitCode);
        var mine = table.Stdout.Split('\n').Where(l => l.Contains($"sha256:{sha256[..16]}…", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, mine.Count);
        Assert.Matches($"^[0-9T:.-]+Z  aggregate  {url}test  1234 bytes  sha256:{sha256[..16]}…  sig1 kid=edge1.example.net  201 {stored.Stdout.TrimEnd()}$", mine[0]);
        Assert.EndsWith($"{url}nosuch  1234 bytes  sha256:{sha256[..16]}…  sig1 kid=edge1.example.net  404 no such aggregate type", mine[1]);
        var json = fixture.Core.Tapir("edge", "audit", "--json", "--state", fixture.EdgeDir("edge1.example.net"));
        var record = json.Stdout.Split('\n').Where(l => l.Contains(sha256, StringComparison.Ordinal)).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).First();
        Assert.Equal(("aggregate", $"{url}test", 1234L, "sig1", "edge1.example.net"),
            (record.GetProperty("kind").GetString(), record.GetProperty("target").GetString(), record.GetProperty("bytes").GetInt64(), record.GetProperty("label").GetString(), record.GetProperty("kid").GetString()));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(fixture.EdgeDir("edge1.example.net"), "audit.log")));
    }

    [Fact]
    public void ACorruptAuditLogIsAnErrorNamingTheLine()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("audit.log"), "{\"time\":\"2026-12-01T00:00:00.000Z\",\"kind\":\"mqtt\",\"target\":\"t\",\"bytes\":1,\"sha256\":\"00\",\"label\":\"jws\",\"kid\":\"k\",\"outcome\":\"0\"}\nnot json\n");
        var r = Run.Tapir("edge", "audit", "--state", dir.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("audit.log:2: not an audit record.", r.Stderr);
    }

    [Fact]
    public void LargeFileIsStreamedIntoItsPayloadFile()
    {
        string file = WriteFile(3 * 1024 * 1024, 77);
        var r = Submit("edge1.example.net", file, "--type", "vector", "--content-type", "application/binary");
        Assert.True(r.ExitCode == 0, r.Stderr + fixture.Core.LogText);
        var row = fixture.Rows().Single(a => r.Stdout.TrimEnd().EndsWith(a.Id, StringComparison.Ordinal));
        Assert.NotNull(row.PayloadPath);
        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(fixture.Core.StateDir, row.PayloadPath!)));
    }

    [Theory]
    [InlineData("--type", "nosuch", "404 no such aggregate type")]
    [InlineData("--content-type", "text/plain", "415 Content-Type: not accepted")]
    public void RefusalPrintsTheCoresReasonAndExits1(string option, string value, string answer)
    {
        string file = WriteFile(100, value.Length);
        string[] args = option == "--type" ? [file, "--type", value] : [file, "--type", "test", option, value];
        int rows = fixture.Rows().Count;
        var r = Submit("edge1.example.net", args);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"tapir: error: the core refused the aggregate: {answer}\n", r.Stderr);
        Assert.Equal("", r.Stdout);
        Assert.Equal(rows, fixture.Rows().Count);
    }

    [Fact]
    public void OversizeFileIsRefusedWith413()
    {
        string file = WriteFile((int)AggregateCore.MaxBytes + 1, 99);
        var r = Submit("edge1.example.net", file, "--type", "test");
        Assert.Equal((1, "tapir: error: the core refused the aggregate: 413 body: too large\n"), (r.ExitCode, r.Stderr));
    }

    /// <summary>A core that is down at first: the connection error is retried with backoff until the core is back.</summary>
    [Fact]
    public async Task ConnectionErrorsAreRetried()
    {
        string file = WriteFile(500, 1234);
        fixture.Core.Stop();
        var submit = Task.Run(() => Submit("edge1.example.net", file, "--type", "test", "--attempts", "5"));
        await Task.Delay(1500);
        fixture.Core.Start();
        var r = await submit;
        Assert.True(r.ExitCode == 0, r.Stderr + fixture.Core.LogText);
        Assert.Contains("level=warning msg=\"submission attempt 1 failed (", r.Stderr);
        Assert.Single(fixture.Rows(), a => r.Stdout.TrimEnd().EndsWith(a.Id, StringComparison.Ordinal));
    }

    [Fact]
    public void BadIntervalIsAUsageError()
    {
        var r = Submit("edge1.example.net", WriteFile(10, 5), "--type", "test", "--interval", "yesterday");
        Assert.Equal((2, "tapir: error: --interval: 'yesterday' is not <RFC 3339 start>/<ISO 8601 duration>.\n"), (r.ExitCode, r.Stderr));
    }
}
