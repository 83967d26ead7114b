// The typed, immutable configuration the rest of the host reads. Built only by ConfigLoader from
// values it has already checked against ConfigSchema.
namespace Tapir.Config;

public sealed record CoreConfig(
    string StateDir,
    string Name,
    IReadOnlyList<string> ServerAddresses,
    string Listen,
    Uri PublicUrl,
    string MqttListen,
    Uri MqttUrl,
    string MqttMode,
    TimeSpan CertificateLifetime,
    TimeSpan EnrollmentSecretLifetime,
    bool AllowP384Csr,
    IReadOnlyList<string> CoreRoles,
    IReadOnlyList<string> AggregateTypes,
    IReadOnlyList<string> AggregateContentTypes,
    long AggregateMaxBytes,
    long AggregateInlineMax,
    TimeSpan AggregateMaxAge,
    TimeSpan ShutdownTimeout,
    string MetricsListen,
    int MqttMaxPacketBytes,
    Tapir.Security.Mqtt.MqttAclRules MqttAcl);

public static class MqttModes
{
    public const string Embedded = "embedded";
    public const string External = "external";
}

public sealed record EdgeConfig(string StateDir, TimeSpan StatusInterval, TimeSpan RenewAfter, string MetricsListen);

public sealed record LogConfig(string Level, string Format);

public sealed record TapirConfig(CoreConfig Core, EdgeConfig Edge, LogConfig Log)
{
    public static TapirConfig Defaults { get; } = ConfigLoader.Parse("", "(defaults)", new Dictionary<string, string>());

    internal static TapirConfig From(IReadOnlyDictionary<string, object> v) => new(
        new CoreConfig(
            StateDir: (string)v["core.state_dir"],
            Name: (string)v["core.name"],
            ServerAddresses: (string[])v["core.server_addresses"],
            Listen: (string)v["core.listen"],
            PublicUrl: new Uri((string)v["core.public_url"]),
            MqttListen: (string)v["core.mqtt_listen"],
            MqttUrl: new Uri((string)v["core.mqtt_url"]),
            MqttMode: (string)v["core.mqtt_mode"],
            CertificateLifetime: (TimeSpan)v["core.certificate_lifetime"],
            EnrollmentSecretLifetime: (TimeSpan)v["core.enrollment_secret_lifetime"],
            AllowP384Csr: (bool)v["core.allow_p384_csr"],
            CoreRoles: (string[])v["core.core_roles"],
            AggregateTypes: (string[])v["core.aggregate_types"],
            AggregateContentTypes: (string[])v["core.aggregate_content_types"],
            AggregateMaxBytes: (long)v["core.aggregate_max_bytes"],
            AggregateInlineMax: (long)v["core.aggregate_inline_max"],
            AggregateMaxAge: (TimeSpan)v["core.aggregate_max_age"],
            ShutdownTimeout: (TimeSpan)v["core.shutdown_timeout"],
            MetricsListen: (string)v["core.metrics_listen"],
            MqttMaxPacketBytes: (int)(long)v["mqtt.max_packet_bytes"],
            MqttAcl: new((string[])v["mqtt.edge_publish"], (string[])v["mqtt.edge_subscribe"], (string[])v["mqtt.core_role_publish"],
                (string[])v["mqtt.core_role_subscribe"], (string[])v["mqtt.deny"])),
        new EdgeConfig((string)v["edge.state_dir"], (TimeSpan)v["edge.status_interval"], (TimeSpan)v["edge.renew_after"], (string)v["edge.metrics_listen"]),
        new LogConfig((string)v["log.level"], (string)v["log.format"]));
}
