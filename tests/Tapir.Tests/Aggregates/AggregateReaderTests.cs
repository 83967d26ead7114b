// GET /api/v1/aggregates/{id} and /payload (DESIGN §5.3) over real mTLS: a core role reads the
// metadata (aggrec's names) and the payload with its original Content-Type, inline or from its
// file; an edge gets 403, an unknown id 404, no client certificate 401.
using System.Text.Json;

namespace Tapir.Tests.Aggregates;

public sealed class AggregateReaderTests(AggregateCore fixture) : IClassFixture<AggregateCore>
{
    private (RawResponse Response, byte[] Body) Get(string node, string target, bool certificate = true)
    {
        using var connection = new RawHttps(fixture.Core, certificate ? fixture.Tls(node) : null);
        connection.Write(target, [], [], "GET");
        var response = connection.Read(out var body);
        return (response, body);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData((int)AggregateCore.InlineMax + 1000)]
    public void CoreRoleReadsMetadataAndPayload(int length)
    {
        var body = new byte[length];
        new Random(length).NextBytes(body);
        var submission = fixture.For("edge1.example.net", body);
        submission.ContentType = "application/vnd.apache.parquet";
        submission.Interval = "2026-11-29T10:00:00Z/PT1M";
        var stored = fixture.Send("edge1.example.net", submission);
        Assert.Equal(201, stored.Status);

        var (metadata, _) = Get(AggregateCore.Reader, stored.Location!);
        Assert.True(metadata.Status == 200, metadata.Body);
        using var doc = JsonDocument.Parse(metadata.Body);
        var root = doc.RootElement;
        string id = stored.Location!.Split('/')[^1];
        Assert.Equal((id, "histogram", "edge1.example.net", "application/vnd.apache.parquet", length, $"/api/v1/aggregates/{id}/payload", "2026-11-29T10:00:00Z", "PT1M"),
            (root.GetProperty("aggregate_id").GetString(), root.GetProperty("aggregate_type").GetString(), root.GetProperty("creator").GetString(),
             root.GetProperty("content_type").GetString(), root.GetProperty("content_length").GetInt32(), root.GetProperty("content_location").GetString(),
             root.GetProperty("aggregate_interval_start").GetString(), root.GetProperty("aggregate_interval_duration").GetString()));
        Assert.Equal($"sig1={submission.SignatureParams}", root.GetProperty("headers").GetProperty("Signature-Input").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", root.GetProperty("created").GetString());

        var (payload, bytes) = Get(AggregateCore.Reader, root.GetProperty("content_location").GetString()!);
        Assert.Equal((200, "application/vnd.apache.parquet"), (payload.Status, payload.Headers["content-type"]));
        Assert.Equal(body, bytes);
    }

    [Fact]
    public void NodeListShowsTheRole()
    {
        var list = fixture.Core.Tapir("core", "node", "list");
        Assert.Matches(@"\nreader\.example\.net\s+enrolled\s.+Z\s+core\n", list.Stdout);
        Assert.Matches(@"\nedge1\.example\.net\s+enrolled\s.+Z\s+edge\n", list.Stdout);
    }

    [Fact]
    public void OnlyCoreRolesRead()
    {
        var stored = fixture.Send("edge1.example.net", fixture.For("edge1.example.net", [1, 2, 3]));
        foreach (string target in new[] { stored.Location!, stored.Location + "/payload" })
        {
            Assert.Equal((403, "{\"error\":\"only core roles read aggregates\"}"), (Get("edge1.example.net", target).Response.Status, Get("edge1.example.net", target).Response.Body));
            Assert.Equal(401, Get("edge1.example.net", target, certificate: false).Response.Status);
        }
        Assert.Equal((404, "{\"error\":\"no such aggregate\"}"), (Get(AggregateCore.Reader, "/api/v1/aggregates/nosuch").Response.Status, Get(AggregateCore.Reader, "/api/v1/aggregates/nosuch").Response.Body));
        Assert.Equal(404, Get(AggregateCore.Reader, "/api/v1/aggregates/nosuch/payload").Response.Status);
    }
}

/// <summary>DESIGN §5.3: after the commit a new_aggregate event (aggrec's fields), signed with the core data key, is in the durable outbox; a resubmission adds none.</summary>
public sealed class AggregateOutboxTests(AggregateCore fixture) : IClassFixture<AggregateCore>
{
    [Fact]
    public void NewAggregateEventIsSignedAndDurable()
    {
        var submission = fixture.For("edge2.example.net", [5, 6, 7, 8]);
        submission.Interval = "2026-11-29T10:00:00Z/PT1M";
        var stored = fixture.Send("edge2.example.net", submission);
        Assert.Equal(201, stored.Status);
        string id = stored.Location!.Split('/')[^1];
        Assert.Equal(201, fixture.Send("edge2.example.net", submission).Status);

        // Published or not: the running core's broker publishes the outbox within moments (issue 11).
        var events = new List<(string Topic, string Message)>();
        using (var db = Tapir.Storage.CoreDatabase.Open(Path.Combine(fixture.Core.StateDir, Tapir.Storage.CoreDatabase.FileName)))
        {
            using var cmd = db.CreateCommand();
            cmd.CommandText = "SELECT topic, message FROM aggregate_events WHERE aggregate_id = $id";
            cmd.Parameters.AddWithValue("$id", id);
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                events.Add((r.GetString(0), r.GetString(1)));
            }
        }
        var (topic, message) = Assert.Single(events);
        Assert.Equal("aggregates", topic);
        string file = fixture.Core.File($"event-{id}.jws");
        File.WriteAllText(file, message);
        var verified = fixture.Core.Tapir("jws", "verify", "--jwks", Path.Combine(fixture.EdgeDir("edge2.example.net"), "trusted.jwks"), file);
        Assert.True(verified.ExitCode == 0, verified.Stderr);
        using var doc = JsonDocument.Parse(verified.Stdout);
        var e = doc.RootElement;
        string baseUrl = fixture.Core.BaseUrl.ToString().TrimEnd('/');
        Assert.Equal(("new_aggregate", 1, id, "histogram", "edge2.example.net", $"{baseUrl}/api/v1/aggregates/{id}", $"{baseUrl}/api/v1/aggregates/{id}/payload", "2026-11-29T10:00:00Z", "PT1M"),
            (e.GetProperty("type").GetString(), e.GetProperty("version").GetInt32(), e.GetProperty("aggregate_id").GetString(), e.GetProperty("aggregate_type").GetString(),
             e.GetProperty("creator").GetString(), e.GetProperty("metadata_location").GetString(), e.GetProperty("content_location").GetString(),
             e.GetProperty("aggregate_interval_start").GetString(), e.GetProperty("aggregate_interval_duration").GetString()));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", e.GetProperty("created").GetString());
        Assert.True(Guid.TryParse(e.GetProperty("message_id").GetString(), out _));
    }
}
