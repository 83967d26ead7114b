// The topics `tapir core publish` may publish on (DESIGN §6.2): an MQTT topic name, never a filter
// (+, #), no NUL or other control character, not a $ topic, at most 1 KiB of UTF-8, no empty
// level. Topics another command owns are refused so one source stays authoritative: the trusted
// JWKS (core key rotate/retire), node configurations (core node configure), and the edge-to-core
// and verified namespaces, where a core-signed message would pose as an edge's.
namespace Tapir.Core.Publishing;

public static class PublishTopic
{
    public const int MaxBytes = 1024;

    /// <summary>Null when the topic may be published on, else why not.</summary>
    public static string? Refusal(string topic)
    {
        if (topic.Length == 0)
        {
            return "the topic is empty";
        }
        if (!IsWellFormedUtf16(topic) || System.Text.Encoding.UTF8.GetByteCount(topic) > MaxBytes)
        {
            return $"the topic is longer than {MaxBytes} bytes of UTF-8 or not valid Unicode";
        }
        if (topic.Any(c => c is '+' or '#'))
        {
            return "the topic holds a wildcard (+ or #): a publish names one topic";
        }
        if (topic.Any(c => char.IsControl(c)))
        {
            return "the topic holds NUL or another control character";
        }
        if (topic.StartsWith('$'))
        {
            return "topics starting with $ belong to the broker";
        }
        if (topic.Split('/').Any(level => level.Length == 0))
        {
            return "the topic has an empty level (a leading, trailing or doubled /)";
        }
        return Owned(topic);
    }

    private static string? Owned(string topic)
    {
        string[] levels = topic.Split('/');
        if (topic == KeyRotation.JwksTopic)
        {
            return $"{topic} carries the trusted JWKS: use 'tapir core key rotate' or 'retire'";
        }
        if (levels is ["configuration", _, "config"])
        {
            return $"{topic} is a node's configuration topic: use 'tapir core node configure'";
        }
        if (levels[0] == "verified" || levels.Length > 1 && levels[0] is "events" or "status" && levels[1] == "up")
        {
            return $"{topic} is edge-to-core traffic; the core does not publish there";
        }
        return null;
    }

    private static bool IsWellFormedUtf16(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return false;
            }
        }
        return true;
    }
}
