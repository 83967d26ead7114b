// The instruments tapir exposes (issue 13), on one System.Diagnostics.Metrics meter named "tapir".
// Names are the Prometheus names: counters end in _total; reasons are the short, fixed refusal
// reasons of the wire (WireAnswers), never a node name, address or other unbounded value.
using System.Diagnostics.Metrics;

namespace Tapir.Metrics;

public static class TapirMetrics
{
    public const string MeterName = "tapir";

    public static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Enrollments = Meter.CreateCounter<long>("tapir_enrollments_total", description: "Enrollment requests answered, by outcome and refusal reason.");

    public static readonly Counter<long> Renewals = Meter.CreateCounter<long>("tapir_renewals_total", description: "Renewal requests answered, by outcome and refusal reason.");

    public static readonly Counter<long> Aggregates = Meter.CreateCounter<long>("tapir_aggregates_total", description: "Aggregate submissions answered, by outcome (accepted, refused) and refusal reason.");

    public static readonly Counter<long> AggregateBytes = Meter.CreateCounter<long>("tapir_aggregate_bytes_received_total", description: "Payload bytes of accepted aggregates.");

    public static readonly UpDownCounter<long> MqttConnections = Meter.CreateUpDownCounter<long>("tapir_mqtt_connections", description: "MQTT clients connected now.");

    public static readonly Counter<long> MqttMessages = Meter.CreateCounter<long>("tapir_mqtt_messages_total", description: "MQTT messages from edges, by outcome (verified, refused) and refusal reason.");

    public static KeyValuePair<string, object?> Outcome(string outcome) => new("outcome", outcome);

    public static KeyValuePair<string, object?> Reason(string reason) => new("reason", reason);

    /// <summary>Counts one answer: a status below 400 as <paramref name="okOutcome"/>, anything else as refused with its reason.</summary>
    public static void CountAnswer(Counter<long> counter, int status, string? reason, string okOutcome)
    {
        if (status < 400)
        {
            counter.Add(1, Outcome(okOutcome));
        }
        else
        {
            counter.Add(1, Outcome("refused"), Reason(reason ?? $"status {status}"));
        }
    }

    /// <summary>What the certificate-expiry gauge reads at a scrape: (certificate, seconds left); set by the running service.</summary>
    public static Func<IEnumerable<(string Certificate, double SecondsLeft)>> CertificateExpiry { get; set; } = () => [];

    /// <summary>What the event-log lag gauge reads at a scrape; set by the running broker.</summary>
    public static Func<double?> EventLogLag { get; set; } = () => null;

    /// <summary>What the broker-connection gauge reads at a scrape (external broker mode only); set by the running core.</summary>
    public static Func<double?> BrokerConnected { get; set; } = () => null;

    public static readonly ObservableGauge<double> BrokerConnectedGauge = Meter.CreateObservableGauge<double>(
        "tapir_mqtt_broker_connected",
        () => BrokerConnected() is double up ? new[] { new Measurement<double>(up) } : Array.Empty<Measurement<double>>(),
        description: "External broker mode: 1 while the core's MQTT client connection to the broker is up, else 0.");

    /// <summary>What the unacknowledged-messages gauge reads at a scrape (external broker mode only); set by the running core.</summary>
    public static Func<double?> BrokerUnacknowledged { get; set; } = () => null;

    public static readonly ObservableGauge<double> BrokerUnacknowledgedGauge = Meter.CreateObservableGauge<double>(
        "tapir_mqtt_unacknowledged",
        () => BrokerUnacknowledged() is double n ? new[] { new Measurement<double>(n) } : Array.Empty<Measurement<double>>(),
        description: "External broker mode: edge messages received from the broker and not yet done (stored, republished on verified/ and acknowledged, or refused).");

    public static readonly ObservableGauge<double> CertificateExpiryGauge = Meter.CreateObservableGauge<double>(
        "tapir_certificate_expiry_seconds",
        () => CertificateExpiry().Select(c => new Measurement<double>(c.SecondsLeft, new KeyValuePair<string, object?>("certificate", c.Certificate))),
        description: "Seconds until each of this process's own certificates expires.");

    public static readonly ObservableGauge<double> EventLogLagGauge = Meter.CreateObservableGauge<double>(
        "tapir_event_log_lag",
        () => EventLogLag() is double lag ? new[] { new Measurement<double>(lag) } : Array.Empty<Measurement<double>>(),
        description: "Verified MQTT messages accepted but not yet committed to the event log.");
}
