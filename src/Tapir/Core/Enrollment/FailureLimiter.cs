// Rate limit for failed enrollment and renewal attempts (DESIGN §4.2, issue 9). Failures count
// against who the caller proved to be: the node of its mTLS client certificate, or else its address
// (IPv6 by /64). A name in the URL proves nothing, so junk sent "as" a node never limits that node.
// Being refused for the limit (429) is not itself a failure. Memory is bounded: one fixed-size
// entry per key and at most maxTracked address keys; when they are all live, new addresses are
// limited (peers, bounded by the enrolled nodes, are always tracked). A restart forgets.
using System.Net;
using System.Net.Sockets;

namespace Tapir.Core.Enrollment;

public sealed class FailureLimiter(int perPeer = 10, int perAddress = 50, TimeSpan? window = null, int maxTracked = 65_536)
{
    private const string PeerPrefix = "peer:";

    private readonly TimeSpan span = window ?? TimeSpan.FromMinutes(5);
    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly Lock gate = new();
    private int sincePrune;
    private DateTimeOffset lastPrune = DateTimeOffset.MinValue;

    /// <summary>How many peers and addresses are being tracked.</summary>
    public int Tracked
    {
        get
        {
            lock (gate)
            {
                return entries.Count;
            }
        }
    }

    /// <summary>The key a request's failures count against: its mTLS node when it has one, else its address.</summary>
    public static string Key(string? peer, IPAddress? address)
    {
        if (peer is not null)
        {
            return PeerPrefix + peer;
        }
        if (address is null)
        {
            return "addr:-";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            // One host usually holds a whole /64: count it as one address.
            byte[] bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            address = new IPAddress(bytes);
        }
        return "addr:" + address;
    }

    public bool IsLimited(string key, DateTimeOffset now)
    {
        lock (gate)
        {
            if (entries.TryGetValue(key, out var entry) && entry.LiveAt(now, span))
            {
                return entry.Count >= Limit(key);
            }
            return !Admits(key, now);
        }
    }

    public void Fail(string key, DateTimeOffset now)
    {
        lock (gate)
        {
            if (entries.TryGetValue(key, out var entry) && entry.LiveAt(now, span))
            {
                entries[key] = entry with { Count = Math.Min(entry.Count + 1, Limit(key)) };
            }
            else if (Admits(key, now))
            {
                entries[key] = new Entry(1, now);
            }
            // Forget idle entries regularly, not only when the table is full.
            if (++sincePrune >= 256)
            {
                Prune(now);
            }
        }
    }

    private int Limit(string key) => key.StartsWith(PeerPrefix, StringComparison.Ordinal) ? perPeer : perAddress;

    /// <summary>Whether a key without a live entry may get one (the table has room, perhaps after pruning).</summary>
    private bool Admits(string key, DateTimeOffset now)
    {
        if (key.StartsWith(PeerPrefix, StringComparison.Ordinal) || entries.Count < maxTracked)
        {
            return true;
        }
        // Pruning walks the table: at most once a second, so a flood from many addresses stays cheap.
        if (now - lastPrune >= TimeSpan.FromSeconds(1))
        {
            Prune(now);
        }
        return entries.Count < maxTracked;
    }

    private void Prune(DateTimeOffset now)
    {
        sincePrune = 0;
        lastPrune = now;
        foreach (var (key, entry) in entries)
        {
            if (!entry.LiveAt(now, span))
            {
                entries.Remove(key);
            }
        }
    }

    /// <summary>Failures counted since the first one of the current window (fixed window, saturating count).</summary>
    private readonly record struct Entry(int Count, DateTimeOffset Since)
    {
        public bool LiveAt(DateTimeOffset now, TimeSpan span) => now - Since < span;
    }
}
