// The instruments of `tapir edge run` (issue 13), on their own meter "tapir.edge": the edge's /metrics
// (EdgeMetricsServer) exposes this meter alone and the core's exposition the "tapir" meter alone, so
// neither shows the other's figures. Names are the Prometheus names; reasons are short fixed labels
// (a Rejection name or one of MessageHandler's: topic, not_json, not_jwks), never a topic or payload.
using System.Diagnostics.Metrics;

namespace Tapir.Metrics;

public static class EdgeMetrics
{
    public const string MeterName = "tapir.edge";

    public static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Messages = Meter.CreateCounter<long>("tapir_edge_messages_total", description: "MQTT messages received from the broker, by outcome (verified, refused) and refusal reason.");

    public static readonly Counter<long> ConfigurationsWritten = Meter.CreateCounter<long>("tapir_edge_configurations_written_total", description: "Verified configurations written to the state directory.");

    public static readonly Counter<long> StatusMessages = Meter.CreateCounter<long>("tapir_edge_status_messages_total", description: "Signed status messages published, by outcome (sent, refused by the broker, failed).");

    public static readonly Counter<long> Renewals = Meter.CreateCounter<long>("tapir_edge_renewals_total", description: "Certificate renewal attempts, by outcome (renewed, failed).");

    public static readonly Counter<long> MqttConnects = Meter.CreateCounter<long>("tapir_edge_mqtt_connects_total", description: "Connections to the broker established (the first and every reconnect).");

    /// <summary>What the gauges read at a scrape; set by the running agent.</summary>
    public static Func<EdgeGaugeState?> State { get; set; } = () => null;

    public static readonly ObservableGauge<double> CertificateExpiry = Meter.CreateObservableGauge<double>(
        "tapir_edge_certificate_expiry_seconds",
        () => State() is EdgeGaugeState s ? new[] { new Measurement<double>(s.CertificateSecondsLeft, new KeyValuePair<string, object?>("serial", s.CertificateSerial)) } : [],
        description: "Seconds until the certificate in use expires.");

    public static readonly ObservableGauge<long> MqttConnected = Meter.CreateObservableGauge<long>(
        "tapir_edge_mqtt_connected",
        () => State() is EdgeGaugeState s ? new[] { new Measurement<long>(s.Connected ? 1 : 0) } : [],
        description: "1 while connected to the broker, else 0.");

    public static readonly ObservableGauge<long> DataKeyInfo = Meter.CreateObservableGauge<long>(
        "tapir_edge_data_key_info",
        () => State() is EdgeGaugeState s ? new[]
        {
            new Measurement<long>(1, new KeyValuePair<string, object?>("alg", s.DataKeyAlg), new KeyValuePair<string, object?>("crv", s.DataKeyCurve),
                new KeyValuePair<string, object?>("kid", s.DataKeyKid), new KeyValuePair<string, object?>("thumbprint", s.DataKeyThumbprint)),
        } : [],
        description: "The node's data key (always 1): algorithm, curve, kid and RFC 7638 thumbprint.");

    public static KeyValuePair<string, object?> Outcome(string outcome) => new("outcome", outcome);

    public static KeyValuePair<string, object?> Reason(string reason) => new("reason", reason);
}

/// <summary>The agent's state as the gauges show it.</summary>
public sealed record EdgeGaugeState(double CertificateSecondsLeft, string CertificateSerial, bool Connected, string DataKeyAlg, string DataKeyCurve, string DataKeyKid, string DataKeyThumbprint);
