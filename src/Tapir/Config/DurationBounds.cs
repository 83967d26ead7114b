// The range a duration key or option must fall in. One value per key in ConfigSchema, used both by
// the configuration check and by the command-line option that overrides the key (e.g. --expires).
namespace Tapir.Config;

public readonly record struct DurationBounds(TimeSpan Min, TimeSpan Max)
{
    public bool Contains(TimeSpan value) => value >= Min && value <= Max;

    public override string ToString() => $"between {Durations.Format(Min)} and {Durations.Format(Max)}";
}
