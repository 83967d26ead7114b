// Group commit for aggregate rows (DESIGN §5.3, §7): submissions whose payload is already durable
// (inline bytes, or a renamed and fsynced file) queue their row; one writer takes whatever is
// waiting (up to 64), inserts it in one transaction with synchronous=FULL, commits, and only then
// completes each submission. Durability comes from the one commit covering them all, never from
// weaker syncing. Each inserted row's signed new_aggregate event goes into the outbox in the same
// transaction. A row whose creator already stored the payload (also within one batch) is not
// inserted (nor its event) and its submitter is told so.
using System.Threading.Channels;
using Tapir.Core.Enrollment;
using Tapir.Storage;

namespace Tapir.Core.Aggregates;

public sealed class AggregateCommitter
{
    private const int MaxBatch = 64;

    private readonly Channel<(AggregateRecord Record, byte[]? Payload, string Event, TaskCompletionSource<bool> Done)> queue =
        Channel.CreateUnbounded<(AggregateRecord, byte[]?, string, TaskCompletionSource<bool>)>(new UnboundedChannelOptions { SingleReader = true });

    private readonly CoreContext core;
    private int started;

    public AggregateCommitter(CoreContext core)
    {
        this.core = core;
    }

    /// <summary>Completes once the row is committed: true if inserted, false if the creator already stored this payload.</summary>
    public Task<bool> InsertAsync(AggregateRecord record, byte[]? payload, string newAggregateEvent)
    {
        if (Interlocked.Exchange(ref started, 1) == 0)
        {
            _ = Task.Run(WriteLoop);
        }
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!queue.Writer.TryWrite((record, payload, newAggregateEvent, done)))
        {
            throw new InvalidOperationException("the aggregate writer has stopped");
        }
        return done.Task;
    }

    private async Task WriteLoop()
    {
        // Its own connection: the commit's fsync must not hold the shared connection's lock, which
        // every request needs for its lookups (SQLite WAL lets them read meanwhile).
        using var db = core.State.OpenDatabase();
        var batch = new List<(AggregateRecord Record, byte[]? Payload, string Event, TaskCompletionSource<bool> Done)>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }
            try
            {
                bool[] inserted = AggregateDatabase.InsertBatch(db, batch.Select(b => (b.Record, b.Payload, b.Event)).ToList());
                for (int i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.SetResult(inserted[i]);
                }
            }
            catch (Exception e)
            {
                // Nothing of this batch is committed: every submitter fails (and removes its file).
                foreach (var item in batch)
                {
                    item.Done.TrySetException(e);
                }
            }
        }
    }
}
