// Rate limit for failed enrollment and renewal attempts (DESIGN §4.2): after too many failures in
// the window, for one node or from one client address, further attempts are refused before any
// secret is touched. In memory: a restart forgets, which only helps a legitimate operator.
namespace Tapir.Core.Enrollment;

public sealed class FailureLimiter(int perNode = 10, int perAddress = 50, TimeSpan? window = null)
{
    private readonly TimeSpan span = window ?? TimeSpan.FromMinutes(5);
    private readonly Dictionary<string, Queue<DateTimeOffset>> failures = new(StringComparer.Ordinal);
    private readonly Lock gate = new();
    private int sincePrune;

    /// <summary>How many names and addresses are being tracked (bounded: idle ones are dropped).</summary>
    public int Tracked
    {
        get
        {
            lock (gate)
            {
                return failures.Count;
            }
        }
    }

    public bool IsLimited(string node, string address, DateTimeOffset now)
    {
        lock (gate)
        {
            return Count($"n:{node}", now) >= perNode || Count($"a:{address}", now) >= perAddress;
        }
    }

    public void Fail(string node, string address, DateTimeOffset now)
    {
        lock (gate)
        {
            foreach (var key in new[] { $"n:{node}", $"a:{address}" })
            {
                if (!failures.TryGetValue(key, out var queue))
                {
                    failures[key] = queue = new Queue<DateTimeOffset>();
                }
                queue.Enqueue(now);
            }
            // Names in failed requests are chosen by the client: forget the idle ones regularly
            // so the table cannot be grown without bound.
            if (++sincePrune >= 256)
            {
                sincePrune = 0;
                foreach (var key in failures.Keys.ToList())
                {
                    if (Count(key, now) == 0)
                    {
                        failures.Remove(key);
                    }
                }
            }
        }
    }

    private int Count(string key, DateTimeOffset now)
    {
        if (!failures.TryGetValue(key, out var queue))
        {
            return 0;
        }
        while (queue.Count > 0 && queue.Peek() < now - span)
        {
            queue.Dequeue();
        }
        return queue.Count;
    }
}
