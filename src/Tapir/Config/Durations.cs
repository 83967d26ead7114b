// Durations in tapir.toml are strings of one number and one unit: "90s", "15m", "24h", "30d".
// Nothing else is accepted (no compound forms, no signs, no fractions), so a value reads one way;
// nothing longer than 36500 days either, so no value can overflow a TimeSpan or a date.
using System.Globalization;

namespace Tapir.Config;

public static class Durations
{
    /// <summary>The longest duration any option or key may be written as (100 years).</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(36500);

    public static bool TryParse(string text, out TimeSpan value) => TryParse(text, out value, out _);

    /// <summary>Parses a duration; on refusal, <paramref name="why"/> says what is wrong, for an error message.</summary>
    public static bool TryParse(string text, out TimeSpan value, out string why)
    {
        value = default;
        why = "a number and one of s, m, h, d, e.g. \"24h\"";
        TimeSpan? unit = text.Length < 2 ? null : text[^1] switch
        {
            's' => TimeSpan.FromSeconds(1),
            'm' => TimeSpan.FromMinutes(1),
            'h' => TimeSpan.FromHours(1),
            'd' => TimeSpan.FromDays(1),
            _ => null,
        };
        var digits = text.AsSpan(0, Math.Max(0, text.Length - 1));
        if (unit is null || digits.IsEmpty || digits.ContainsAnyExcept("0123456789"))
        {
            return false;
        }
        // Compared as a quotient, never multiplied first: the product is what overflowed.
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n > Longest.Ticks / unit.Value.Ticks)
        {
            why = $"longer than {Format(Longest)}";
            return false;
        }
        value = TimeSpan.FromTicks(unit.Value.Ticks * n);
        why = "";
        return true;
    }

    public static string Format(TimeSpan value) =>
        value.Ticks % TimeSpan.TicksPerDay == 0 ? $"{(long)value.TotalDays}d"
        : value.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(long)value.TotalHours}h"
        : value.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{(long)value.TotalMinutes}m"
        : $"{(long)value.TotalSeconds}s";
}
