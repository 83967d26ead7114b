// Verified configurations written into the edge state directory (issue 12): `config/<app>.json`
// holds the signed payload, `config/<app>.jws` beside it the message exactly as received, each
// written atomically (temp file, fsync, rename). <app> is the last segment of the topic: the
// node's own configuration topic (`configuration/<node>/config` gives `config`) or
// `config/down/<app>`, where `jwks` and the node topic's own name are not configurations, so two
// topics never write one file (MessageHandler.AppOf). It must be 1 to 64 of [a-z0-9_-] and begin
// with a letter or digit, so no topic can name a path outside config/; anything else is refused.
using System.Text.Json;
using Tapir.Security.Encoding;
using Tapir.Storage;

namespace Tapir.Edge.Agent;

public sealed record LastConfig(string App, string Topic, DateTimeOffset Received);

public sealed class ConfigStore(EdgeState state)
{
    public LastConfig? Last { get; private set; }

    public static bool IsAppName(string name) =>
        name.Length is >= 1 and <= 64 && char.IsAsciiLetterOrDigit(name[0]) && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-');

    public string JsonPath(string app) => state.PathOf(Path.Combine("config", app + ".json"));

    /// <summary>Writes one verified configuration and says what changed (member names only, never values).</summary>
    public string Write(string app, string topic, byte[] payload, ReadOnlySpan<byte> signed, DateTimeOffset now)
    {
        if (!IsAppName(app))
        {
            throw new ArgumentException($"'{app}' is no configuration name", nameof(app));
        }
        Directory.CreateDirectory(state.PathOf("config"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string path = JsonPath(app);
        byte[]? old = File.Exists(path) ? File.ReadAllBytes(path) : null;
        AtomicFile.Write(state.PathOf(Path.Combine("config", app + ".jws")), signed, AtomicFile.PublicMode);
        AtomicFile.Write(path, payload, AtomicFile.PublicMode);
        Last = new LastConfig(app, topic, now);
        return old is null ? "new" : old.AsSpan().SequenceEqual(payload) ? "unchanged" : Changes(old, payload);
    }

    /// <summary>The top-level members added, removed and changed, when both versions are JSON objects.</summary>
    private static string Changes(byte[] old, byte[] current)
    {
        var before = Members(old);
        var after = Members(current);
        if (before is null || after is null)
        {
            return "replaced";
        }
        var parts = new List<string>();
        void Add(string what, IEnumerable<string> names)
        {
            var list = names.Order(StringComparer.Ordinal).ToList();
            if (list.Count > 0)
            {
                parts.Add($"{what} {string.Join(", ", list.Take(10))}{(list.Count > 10 ? $" (+{list.Count - 10} more)" : "")}");
            }
        }
        Add("added", after.Keys.Except(before.Keys));
        Add("removed", before.Keys.Except(after.Keys));
        Add("changed", after.Keys.Intersect(before.Keys).Where(k => before[k] != after[k]));
        return parts.Count == 0 ? "reformatted, same members and values" : string.Join("; ", parts);
    }

    private static Dictionary<string, string>? Members(byte[] json)
    {
        if (!StrictJson.TryParse(json, out var doc, out _))
        {
            return null;
        }
        using (doc)
        {
            return doc.RootElement.ValueKind != JsonValueKind.Object ? null
                : doc.RootElement.EnumerateObject().ToDictionary(m => m.Name, m => m.Value.GetRawText(), StringComparer.Ordinal);
        }
    }
}
