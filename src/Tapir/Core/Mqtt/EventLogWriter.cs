// Group commit for verified edge messages (DESIGN §6.4, §7): publish handlers queue their event
// and wait; one writer takes whatever is waiting (up to 256), inserts it in one transaction with
// synchronous=FULL on its own connection, and only then completes each, so no PUBACK leaves before
// its message is durable. The queue is bounded: when the disk is slower than ingress, publishers
// wait for room (back-pressure reaches the edges as delayed PUBACKs), nothing is dropped.
using System.Threading.Channels;
using Tapir.Core.Enrollment;
using Tapir.Storage;

namespace Tapir.Core.Mqtt;

public sealed class EventLogWriter(CoreContext core)
{
    private const int MaxBatch = 256;

    private readonly Channel<(MqttEvent Event, TaskCompletionSource Done)> queue =
        Channel.CreateBounded<(MqttEvent, TaskCompletionSource)>(new BoundedChannelOptions(4096) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private Task? writer;

    public void Start() => writer = Task.Run(WriteLoop);

    /// <summary>Verified messages queued and not yet taken into a commit (the event-log lag gauge).</summary>
    public int Pending => queue.Reader.Count;

    /// <summary>Completes once the event is committed; fails if its batch could not be.</summary>
    public async Task AppendAsync(MqttEvent e, CancellationToken cancel)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await queue.Writer.WriteAsync((e, done), cancel).ConfigureAwait(false);
        await done.Task.ConfigureAwait(false);
    }

    /// <summary>Takes no more events and returns once every queued one is committed (or failed).</summary>
    public async Task StopAsync()
    {
        queue.Writer.TryComplete();
        if (writer is not null)
        {
            await writer.ConfigureAwait(false);
        }
    }

    private async Task WriteLoop()
    {
        using var db = core.State.OpenDatabase();
        var batch = new List<(MqttEvent Event, TaskCompletionSource Done)>(MaxBatch);
        var events = new List<MqttEvent>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            events.Clear();
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
                events.Add(item.Event);
            }
            try
            {
                MqttEventLog.InsertBatch(db, events);
                batch.ForEach(b => b.Done.SetResult());
            }
            catch (Exception e)
            {
                batch.ForEach(b => b.Done.TrySetException(e));
            }
        }
    }
}
