// An aggregate's metadata as JSON with aggrec's field names (DESIGN §5.3): aggregate_id,
// aggregate_type, created (the time the core received it), creator, headers (the stored fields the
// signature covers or carries), content_type, content_length, content_location,
// aggregate_interval_start, aggregate_interval_duration.
using System.Globalization;
using System.Text.Json;
using Tapir.Storage;

namespace Tapir.Core.Aggregates;

public static class AggregateMetadata
{
    public static string Received(AggregateRecord a) =>
        DateTimeOffset.FromUnixTimeMilliseconds(a.ReceivedAt).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    public static void Write(Utf8JsonWriter w, AggregateRecord a)
    {
        w.WriteStartObject();
        w.WriteString("aggregate_id", a.Id);
        w.WriteString("aggregate_type", a.Type);
        w.WriteString("created", Received(a));
        w.WriteString("creator", a.Creator);
        w.WriteStartObject("headers");
        w.WriteString("Content-Type", a.ContentType);
        w.WriteString("Content-Length", a.ContentLength.ToString(CultureInfo.InvariantCulture));
        w.WriteString("Content-Digest", a.ContentDigest);
        if (a.Interval is not null)
        {
            w.WriteString("Aggregate-Interval", a.Interval);
        }
        w.WriteString("Signature-Input", a.SignatureInput);
        w.WriteString("Signature", a.Signature);
        w.WriteEndObject();
        w.WriteString("content_type", a.ContentType);
        w.WriteNumber("content_length", a.ContentLength);
        w.WriteString("content_location", $"/api/v1/aggregates/{a.Id}/payload");
        string[]? interval = a.Interval?.Split('/', 2);
        w.WriteString("aggregate_interval_start", interval?[0]);
        w.WriteString("aggregate_interval_duration", interval?[1]);
        w.WriteEndObject();
    }

    /// <summary>aggrec's new_aggregate event for the row, as a flattened JWS signed with the core data key (DESIGN §5.3, §6.3).</summary>
    public static string NewAggregateEvent(Enrollment.CoreContext core, AggregateRecord a)
    {
        string json = Enrollment.Json.Object(w =>
        {
            w.WriteString("$schema", "https://schema.dnstapir.se/v1/new_aggregate");
            w.WriteNumber("version", 1);
            w.WriteString("message_id", Guid.NewGuid().ToString());
            w.WriteString("timestamp", core.Clock.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffK", CultureInfo.InvariantCulture));
            w.WriteString("type", "new_aggregate");
            w.WriteString("aggregate_id", a.Id);
            w.WriteString("aggregate_type", a.Type);
            w.WriteString("created", DateTimeOffset.FromUnixTimeMilliseconds(a.ReceivedAt).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            w.WriteString("creator", a.Creator);
            w.WriteString("metadata_location", new Uri(core.Config.PublicUrl, $"/api/v1/aggregates/{a.Id}").ToString());
            w.WriteString("content_location", new Uri(core.Config.PublicUrl, $"/api/v1/aggregates/{a.Id}/payload").ToString());
            if (a.Interval?.Split('/', 2) is [string start, string duration])
            {
                w.WriteString("aggregate_interval_start", start);
                w.WriteString("aggregate_interval_duration", duration);
            }
        });
        return Tapir.Security.Jose.JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(json), core.State.DataKey);
    }

    public static string Json(IEnumerable<AggregateRecord> rows, bool array)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            if (array)
            {
                w.WriteStartArray();
            }
            foreach (var a in rows)
            {
                Write(w, a);
            }
            if (array)
            {
                w.WriteEndArray();
            }
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
