// MQTT topic names and filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7) as the broker's ACL needs them
// (DESIGN §6.2): whether a publish topic is acceptable, whether a filter matches a topic, whether
// an allowed pattern covers every topic a requested filter can match, and whether two filters can
// match a common topic. `+` is one level, `#` the rest (and the parent level); `$` topics are
// reserved and refused outright, so no wildcard rule ever needs to reason about them.
namespace Tapir.Security.Mqtt;

public static class TopicFilter
{
    /// <summary>Longest topic or filter accepted, in UTF-8 bytes.</summary>
    public const int MaxTopicBytes = 1024;

    /// <summary>A topic a peer may publish to: not empty, at most 1 KiB, no wildcard, no NUL, not reserved ($).</summary>
    public static bool IsValidTopic(string topic, out Rejection why)
    {
        why = topic.Length == 0 || topic.AsSpan().IndexOfAny('+', '#', '\0') >= 0 || topic[0] == '$' ? Rejection.Malformed
            : System.Text.Encoding.UTF8.GetByteCount(topic) > MaxTopicBytes ? Rejection.TooLarge : Rejection.None;
        return why == Rejection.None;
    }

    /// <summary>A filter a peer may subscribe to: at most 1 KiB, no NUL, not reserved, `+` and `#` only as whole levels, `#` last.</summary>
    public static bool IsValidFilter(string filter, out Rejection why)
    {
        why = Rejection.None;
        if (filter.Length == 0 || filter.Contains('\0') || filter[0] == '$')
        {
            why = Rejection.Malformed;
        }
        else if (System.Text.Encoding.UTF8.GetByteCount(filter) > MaxTopicBytes)
        {
            why = Rejection.TooLarge;
        }
        else
        {
            string[] levels = filter.Split('/');
            for (int i = 0; i < levels.Length && why == Rejection.None; i++)
            {
                bool wild = levels[i].AsSpan().IndexOfAny('+', '#') >= 0;
                if (wild && (levels[i].Length != 1 || (levels[i] == "#" && i != levels.Length - 1)))
                {
                    why = Rejection.Malformed;
                }
            }
        }
        return why == Rejection.None;
    }

    /// <summary>Whether <paramref name="filter"/> matches the topic name <paramref name="topic"/>.</summary>
    public static bool Matches(string filter, string topic) => Covers(filter, topic);

    /// <summary>Whether every topic <paramref name="filter"/> can match is also matched by <paramref name="pattern"/>.</summary>
    public static bool Covers(string pattern, string filter)
    {
        string[] p = pattern.Split('/'), f = filter.Split('/');
        for (int i = 0; ; i++)
        {
            if (i < p.Length && p[i] == "#")
            {
                return true;
            }
            if (i == p.Length || i == f.Length)
            {
                return p.Length == f.Length;
            }
            if (f[i] == "#" || (p[i] != "+" && p[i] != f[i]))
            {
                return false;
            }
        }
    }

    /// <summary>Whether some topic is matched by both filters.</summary>
    public static bool Overlaps(string a, string b)
    {
        string[] x = a.Split('/'), y = b.Split('/');
        for (int i = 0; ; i++)
        {
            if ((i < x.Length && x[i] == "#") || (i < y.Length && y[i] == "#"))
            {
                return true;
            }
            if (i == x.Length || i == y.Length)
            {
                return x.Length == y.Length;
            }
            if (x[i] != "+" && y[i] != "+" && x[i] != y[i])
            {
                return false;
            }
        }
    }
}
