// Makes an accepted aggregate durable (DESIGN §5.3, §7) before anything is acknowledged: a body up
// to core.aggregate_inline_max goes into its row; a larger one, already written and fsynced in
// aggregates/tmp, is renamed into aggregates/<yyyy>/<mm>/<dd>/<id> (directory fsynced), then the
// row is committed (AggregateCommitter: group commit). File names are ours (date and random id),
// never taken from the request. The same creator and payload again returns the stored id and
// leaves no second file.
using System.Globalization;
using System.Security.Cryptography;
using Tapir.Core.Enrollment;
using Tapir.Logging;
using Tapir.Security.Encoding;
using Tapir.Storage;

namespace Tapir.Core.Aggregates;

public static class AggregateStore
{
    public const string Folder = "aggregates";

    /// <summary>A random, URL-safe id: 128 bits, base64url.</summary>
    public static string NewId() => Base64Url.Encode(RandomNumberGenerator.GetBytes(16));

    /// <summary>A new temporary file name in aggregates/tmp (same file system as the final place).</summary>
    public static string NewTemporaryFile(CoreContext core)
    {
        string directory = core.State.PathOf(Path.Combine(Folder, "tmp"));
        CreateDurably(core, directory);
        return Path.Combine(directory, $"{NewId()}.part");
    }

    /// <summary>Stores the record with its payload (inline bytes, or the fsynced temporary file, which is moved);
    /// returns the id stored and whether it was already there.</summary>
    public static async Task<(string Id, bool Existing)> StoreAsync(CoreContext core, AggregateRecord record, byte[]? inline, string? temporary)
    {
        // A file is looked up first so a resubmission moves nothing; an inline row simply conflicts in the insert.
        if (temporary is not null && core.Db(db => AggregateDatabase.Existing(db, record.Creator, record.Sha256)) is string existing)
        {
            return (existing, true);
        }
        string? final = null;
        if (temporary is not null)
        {
            var received = DateTimeOffset.FromUnixTimeMilliseconds(record.ReceivedAt);
            string relative = string.Join('/', Folder, received.ToString("yyyy", CultureInfo.InvariantCulture),
                received.ToString("MM", CultureInfo.InvariantCulture), received.ToString("dd", CultureInfo.InvariantCulture), record.Id);
            final = core.State.PathOf(relative);
            string directory = Path.GetDirectoryName(final)!;
            CreateDurably(core, directory);
            File.Move(temporary, final);
            Posix.FsyncDirectory(directory);
            record = record with { PayloadPath = relative };
        }
        bool inserted;
        try
        {
            inserted = await core.Aggregates.InsertAsync(record, temporary is null ? inline : null, AggregateMetadata.NewAggregateEvent(core, record)).ConfigureAwait(false);
        }
        catch
        {
            DeleteIfAny(final);
            throw;
        }
        if (!inserted)
        {
            // The same creator stored the same payload before or meanwhile (a resubmission).
            DeleteIfAny(final);
            return (core.Db(db => AggregateDatabase.Existing(db, record.Creator, record.Sha256))!, true);
        }
        return (record.Id, false);
    }

    /// <summary>
    /// At start-up, before the API listens: removes temporary files a stopped or crashed core left in
    /// aggregates/tmp, and payload files without a row (a crash between the rename and the commit: never
    /// acknowledged); reports both, and rows whose payload file is missing.
    /// </summary>
    public static void Sweep(CoreContext core)
    {
        string root = core.State.PathOf(Folder);
        if (!Directory.Exists(root))
        {
            return;
        }
        string tmp = Path.Combine(root, "tmp");
        var temporary = Directory.Exists(tmp) ? Directory.GetFiles(tmp) : [];
        foreach (string file in temporary)
        {
            File.Delete(file);
        }
        var stored = core.Db(db => AggregateDatabase.PayloadPaths(db));
        var orphans = Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(core.State.Directory, f))
            .Where(f => !f.StartsWith($"{Folder}/tmp/", StringComparison.Ordinal) && !stored.Contains(f)).ToList();
        foreach (string orphan in orphans)
        {
            File.Delete(core.State.PathOf(orphan));
        }
        if (temporary.Length > 0 || orphans.Count > 0)
        {
            Log.Warning($"aggregate start-up check: removed {temporary.Length} temporary files and {orphans.Count} payload files without a row (never acknowledged){(orphans.Count == 0 ? "" : ": " + string.Join(", ", orphans.Take(20)))}");
        }
        foreach (string missing in stored.Where(p => !File.Exists(core.State.PathOf(p))).Take(100))
        {
            Log.Error($"aggregate start-up check: the payload file {missing} of a stored aggregate is missing");
        }
    }

    private static void DeleteIfAny(string? path)
    {
        if (path is not null)
        {
            File.Delete(path);
        }
    }

    /// <summary>Creates the directory and any missing parents below the state directory, each made durable in its parent.</summary>
    private static void CreateDurably(CoreContext core, string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }
        string parent = Path.GetDirectoryName(directory)!;
        if (!Path.GetFullPath(parent).StartsWith(Path.GetFullPath(core.State.Directory), StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{directory} is not below the state directory");
        }
        CreateDurably(core, parent);
        Directory.CreateDirectory(directory);
        Posix.FsyncDirectory(parent);
    }
}
