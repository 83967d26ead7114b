// The signed payloads of enrollment and renewal (DESIGN §4.2, §4.3), parsed strictly: a JSON
// object with exactly the members named (no others, none twice), an RFC 3339 timestamp with an
// explicit offset, a PEM CSR, the node's public data key (enrollment only) and an optional
// lifetime in seconds. The ±300 s clock rule is checked against the `now` passed in.
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;

namespace Tapir.Security.Pki;

public sealed partial record EnrollmentPayload(DateTimeOffset Timestamp, string CsrPem, Jwk? PublicKey, TimeSpan? Lifetime)
{
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(300);

    [GeneratedRegex(@"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    /// <summary>Parses an enrollment payload (withPublicKey) or a renewal payload.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> json, bool withPublicKey, out EnrollmentPayload? payload, out string reason)
    {
        payload = null;
        reason = "payload is not a JSON object with unique members";
        if (!StrictJson.TryParse(json, out var document, out _))
        {
            return false;
        }
        using (document)
        {
            var root = document!.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }
            string[] allowed = withPublicKey ? ["timestamp", "x509_csr", "public_key", "x509_lifetime"] : ["timestamp", "x509_csr", "x509_lifetime"];
            foreach (var member in root.EnumerateObject())
            {
                if (Array.IndexOf(allowed, member.Name) < 0)
                {
                    reason = $"unexpected member '{member.Name}'";
                    return false;
                }
            }
            if (!root.TryGetProperty("timestamp", out var ts) || ts.ValueKind != JsonValueKind.String || !TryTimestamp(ts.GetString()!, out var timestamp))
            {
                reason = "timestamp must be an RFC 3339 date-time with offset";
                return false;
            }
            if (!root.TryGetProperty("x509_csr", out var csr) || csr.ValueKind != JsonValueKind.String)
            {
                reason = "x509_csr must be a PEM string";
                return false;
            }
            TimeSpan? lifetime = null;
            if (root.TryGetProperty("x509_lifetime", out var lt))
            {
                if (lt.ValueKind != JsonValueKind.Number || !lt.TryGetInt64(out long seconds) || seconds <= 0 || seconds > 400L * 86400)
                {
                    reason = "x509_lifetime must be a positive number of seconds";
                    return false;
                }
                lifetime = TimeSpan.FromSeconds(seconds);
            }
            Jwk? key = null;
            if (withPublicKey)
            {
                if (!root.TryGetProperty("public_key", out var jwk) || !JwkParser.TryParse(jwk, out key, out var why) || key!.HasPrivateKey)
                {
                    reason = "public_key must be a public JWK";
                    return false;
                }
            }
            payload = new EnrollmentPayload(timestamp, csr.GetString()!, key, lifetime);
            reason = "";
            return true;
        }
    }

    public bool IsFresh(DateTimeOffset now) => (now - Timestamp).Duration() <= MaxClockSkew;

    private static bool TryTimestamp(string text, out DateTimeOffset value)
    {
        value = default;
        return Rfc3339().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out value);
    }
}
