// Every key tapir.toml accepts, with its default (DESIGN §1, §3, §4, §5, §6.2). Defaults make
// `tapir core init` and `tapir core serve` work with no file: everything listens on this machine
// and the URLs handed to edges point at 127.0.0.1. tapir.toml.example is checked against this list.
namespace Tapir.Config;

public static class ConfigSchema
{
    public static readonly DurationBounds CertificateLifetime = new(TimeSpan.FromHours(1), TimeSpan.FromDays(397));
    public static readonly DurationBounds EnrollmentSecretLifetime = new(TimeSpan.FromMinutes(1), TimeSpan.FromDays(30));
    public static readonly DurationBounds AggregateMaxAge = new(TimeSpan.FromMinutes(1), TimeSpan.FromDays(30));
    public static readonly DurationBounds ShutdownTimeout = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
    public static readonly DurationBounds StatusInterval = new(TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
    public static readonly DurationBounds RenewAfter = new(TimeSpan.FromSeconds(1), TimeSpan.FromDays(397));

    public static readonly IReadOnlyList<ConfigKey> Keys =
    [
        new("core", "state_dir", ConfigKind.String, "/var/lib/tapir/core", "Core state directory: CA, keys, database, aggregates.", NotEmpty),
        new("core", "name", ConfigKind.String, "localhost", "DNS name of the core's TLS server certificate.", DnsName),
        new("core", "server_addresses", ConfigKind.StringList, new[] { "127.0.0.1" }, "IP addresses added to the core server certificate's SAN."),
        new("core", "listen", ConfigKind.String, "0.0.0.0:8443", "HTTPS API listen address (host:port).", HostPort),
        new("core", "public_url", ConfigKind.String, "https://127.0.0.1:8443/", "Base URL of the HTTPS API handed to edges (nodeman_url, aggrec_url).", HttpsUrl),
        new("core", "mqtt_listen", ConfigKind.String, "0.0.0.0:8883", "MQTT over TLS listen address (host:port).", HostPort),
        new("core", "mqtt_url", ConfigKind.String, "mqtts://127.0.0.1:8883", "MQTT broker URL handed to edges; in external mode also the broker the core connects to.", MqttsUrl),
        new("core", "mqtt_mode", ConfigKind.String, "embedded",
            "embedded: `core serve` runs the MQTT broker on mqtt_listen. external: it listens on no MQTT port and connects to the broker at mqtt_url (Mosquitto, DESIGN 6.6) as an MQTT client with its server certificate.", OneOf("embedded", "external")),
        new("core", "certificate_lifetime", ConfigKind.Duration, TimeSpan.FromDays(30), "Default leaf certificate lifetime (1h to 397d).", Between(CertificateLifetime)),
        new("core", "enrollment_secret_lifetime", ConfigKind.Duration, TimeSpan.FromHours(24), "How long an enrollment secret stays valid.", Between(EnrollmentSecretLifetime)),
        new("core", "allow_p384_csr", ConfigKind.Boolean, false, "Accept P-384 keys in CSRs as well as P-256."),
        new("core", "core_roles", ConfigKind.StringList, Array.Empty<string>(), "Certificate names that act as core roles (read aggregates, verified events)."),
        new("core", "aggregate_types", ConfigKind.StringList, new[] { "histogram", "vector", "test" }, "Accepted aggregate types.", NonEmptyList),
        new("core", "aggregate_content_types", ConfigKind.StringList, new[] { "application/vnd.apache.parquet", "application/binary" }, "Accepted aggregate content types.", NonEmptyList),
        new("core", "aggregate_max_bytes", ConfigKind.Integer, 256L * 1024 * 1024, "Largest accepted aggregate body in bytes.", Positive),
        new("core", "aggregate_inline_max", ConfigKind.Integer, 1024L * 1024, "Aggregate bodies up to this many bytes are stored in the database, larger ones in their own files.", Positive),
        new("core", "aggregate_max_age", ConfigKind.Duration, TimeSpan.FromHours(24), "Oldest accepted signature `created` time.", Between(AggregateMaxAge)),
        new("core", "shutdown_timeout", ConfigKind.Duration, TimeSpan.FromSeconds(10), "How long a stop (SIGTERM, SIGINT) waits for requests in flight before closing their connections.", Between(ShutdownTimeout)),
        new("core", "metrics_listen", ConfigKind.String, "127.0.0.1:9464", "Plain-HTTP listener for GET /metrics (Prometheus) and /healthz (host:port; \"\" turns it off).", OptionalHostPort),
        new("mqtt", "max_packet_bytes", ConfigKind.Integer, 512L * 1024,
            "Largest MQTT packet the broker accepts, in bytes; a client declaring a larger one is disconnected at once. The default holds a signed configuration of 256 KiB (base64url in a JWS, about 342 KiB).", PacketSize),
        new("mqtt", "edge_publish", ConfigKind.StringList, new[] { "events/up/{node}/#", "status/up/{node}/#" }, "Topic filters an edge may publish to; {node} is the edge's own name.", Filters),
        new("mqtt", "edge_subscribe", ConfigKind.StringList, new[] { "observations/down/#", "config/down/#", "configuration/{node}/#" }, "Topic filters an edge may subscribe to (a requested filter must lie wholly inside one).", Filters),
        new("mqtt", "core_role_publish", ConfigKind.StringList, Array.Empty<string>(), "Topic filters a core role (core.core_roles) may publish to; {node} is the role's name.", Filters),
        new("mqtt", "core_role_subscribe", ConfigKind.StringList, new[] { "verified/#", "aggregates" }, "Topic filters a core role may subscribe to.", Filters),
        new("mqtt", "deny", ConfigKind.StringList, Array.Empty<string>(), "Topic filters nobody may publish to or subscribe to; deny wins over every allow rule.", Filters),
        new("edge", "state_dir", ConfigKind.String, "/var/lib/tapir/edge", "Edge state directory: keys, certificates, trusted JWKS.", NotEmpty),
        new("edge", "status_interval", ConfigKind.Duration, TimeSpan.FromMinutes(5), "How often `tapir edge run` publishes its signed status (1s to 1d).", Between(StatusInterval)),
        new("edge", "renew_after", ConfigKind.Duration, TimeSpan.Zero,
            "0 (the default): `tapir edge run` renews at two thirds of the certificate's lifetime with jitter (DESIGN 4.3). Otherwise it renews this long after it took its current certificate into use (1s to 397d; for tests and drills).", ZeroOr(RenewAfter)),
        new("edge", "metrics_listen", ConfigKind.String, "", "Plain-HTTP listener of `tapir edge run` for GET /metrics (Prometheus) and /healthz (host:port; \"\", the default, turns it off).", OptionalHostPort),
        new("log", "level", ConfigKind.String, "info", "Log level: debug, info, warning or error.", OneOf("debug", "info", "warning", "error")),
        new("log", "format", ConfigKind.String, "text", "Log line format: text (key=value) or json (one object per line); --log-format overrides it.", OneOf("text", "json")),
    ];

    public static ConfigKey? Find(string section, string name) =>
        Keys.FirstOrDefault(k => k.Section == section && k.Name == name);

    /// <summary>A value written as it would stand in tapir.toml.</summary>
    public static string Format(object value) => value switch
    {
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        long n => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        TimeSpan d => $"\"{Durations.Format(d)}\"",
        string[] list => $"[{string.Join(", ", list.Select(Format))}]",
        _ => throw new ArgumentException($"unexpected configuration value type {value.GetType()}", nameof(value)),
    };

    public static bool IsSection(string section) => Keys.Any(k => k.Section == section);

    private static string? NotEmpty(object value) => ((string)value).Length == 0 ? "must not be empty" : null;

    private static string? Positive(object value) => (long)value <= 0 ? "must be positive" : null;

    private static string? NonEmptyList(object value) => ((string[])value).Length == 0 ? "must list at least one value" : null;

    private static Func<object, string?> OneOf(params string[] allowed) =>
        value => allowed.Contains((string)value) ? null : $"must be one of {string.Join(", ", allowed)}";

    private static Func<object, string?> Between(DurationBounds bounds) =>
        value => bounds.Contains((TimeSpan)value) ? null : $"must be {bounds}";

    private static Func<object, string?> ZeroOr(DurationBounds bounds) =>
        value => (TimeSpan)value == TimeSpan.Zero || bounds.Contains((TimeSpan)value) ? null : $"must be 0 or {bounds}";

    private static string? DnsName(object value) =>
        Tapir.Security.Pki.NodeName.IsValid((string)value) ? null : "must be a lower-case DNS name (LDH labels, at most 253 octets)";

    private static string? Filters(object value) =>
        ((string[])value).FirstOrDefault(f => !Tapir.Security.Mqtt.TopicFilter.IsValidFilter(Tapir.Security.Mqtt.MqttAcl.Expand(f, "node"), out _)) is string bad
            ? $"'{bad}' is not a valid MQTT topic filter" : null;

    private static string? HostPort(object value)
    {
        string text = (string)value;
        int colon = text.LastIndexOf(':');
        return colon > 0 && int.TryParse(text.AsSpan(colon + 1), out int port) && port is > 0 and < 65536
            ? null : "must be host:port with a port from 1 to 65535";
    }

    private static string? OptionalHostPort(object value) => ((string)value).Length == 0 ? null : HostPort(value);

    private static string? HttpsUrl(object value) => Url((string)value, "https");

    private static string? PacketSize(object value) =>
        (long)value is < 1024 or > 268_435_460 ? "must be between 1024 and 268435460 (MQTT's largest packet)" : null;

    private static string? MqttsUrl(object value) => Url((string)value, "mqtts");

    private static string? Url(string text, string scheme) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme == scheme && uri.Host.Length > 0
            ? null : $"must be an absolute {scheme}:// URL";
}
