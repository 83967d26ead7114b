// The agent's signed status message (issue 12) on `status/up/<node>/tapir`: a flattened JWS with
// protected header {"alg","kid"} by the node's data key (DESIGN §6.3) over a small JSON object:
// version, start time and uptime, the certificate in use, the data key's RFC 7638 thumbprint, the
// trusted kids, the last configuration received and the messages accepted and refused.
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using Tapir.Core.Enrollment;
using Tapir.Security.Jose;

namespace Tapir.Edge.Agent;

public sealed record StatusFacts(string Node, DateTimeOffset Started, X509Certificate2 Certificate, Jwk DataKey, JwkSet Trusted, LastConfig? Last, long Accepted, long Refused);

public static class StatusReport
{
    public static string Version { get; } = CurrentVersion();

    public static string Sign(StatusFacts facts, DateTimeOffset now)
    {
        string payload = Json.Object(w =>
        {
            w.WriteString("node", facts.Node);
            w.WriteString("version", Version);
            w.WriteString("time", Stamp(now));
            w.WriteString("started", Stamp(facts.Started));
            w.WriteNumber("uptime_seconds", (long)(now - facts.Started).TotalSeconds);
            w.WriteString("certificate_serial", Convert.ToHexStringLower(facts.Certificate.SerialNumberBytes.Span));
            w.WriteString("certificate_not_after", Stamp(new DateTimeOffset(facts.Certificate.NotAfter.ToUniversalTime())));
            w.WriteString("data_key_thumbprint", Thumbprint.Compute(facts.DataKey));
            w.WriteStartArray("trusted_kids");
            foreach (var key in facts.Trusted.Keys)
            {
                w.WriteStringValue(key.Kid);
            }
            w.WriteEndArray();
            if (facts.Last is LastConfig last)
            {
                w.WriteStartObject("last_config");
                w.WriteString("name", last.App);
                w.WriteString("topic", last.Topic);
                w.WriteString("received", Stamp(last.Received));
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("last_config");
            }
            w.WriteNumber("messages_accepted", facts.Accepted);
            w.WriteNumber("messages_refused", facts.Refused);
        });
        return JwsSigner.Flattened(System.Text.Encoding.UTF8.GetBytes(payload), facts.DataKey);
    }

    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

    private static string CurrentVersion()
    {
        string informational = typeof(StatusReport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
