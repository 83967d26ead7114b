// One configuration key of tapir.toml: its section, name, kind, default and the check its value
// must pass. The full list lives in ConfigSchema; the loader and tapir.toml.example follow it.
namespace Tapir.Config;

public enum ConfigKind
{
    String,
    Integer,
    Boolean,
    Duration,
    StringList,
}

public sealed record ConfigKey(
    string Section,
    string Name,
    ConfigKind Kind,
    object Default,
    string Help,
    Func<object, string?>? Check = null)
{
    public string Path => $"{Section}.{Name}";

    /// <summary>The environment variable that overrides this key: TAPIR_SECTION__KEY.</summary>
    public string EnvironmentName => $"TAPIR_{Section.ToUpperInvariant()}__{Name.ToUpperInvariant()}";
}
