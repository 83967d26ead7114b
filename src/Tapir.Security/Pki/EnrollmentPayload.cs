// The signed payloads of enrollment and renewal (DESIGN §4.2, §4.3), parsed strictly: a JSON
// object with exactly the members named (no others: ParameterNotAllowed; none twice; the required
// ones present: ParameterMissing), an ASCII RFC 3339 timestamp with an explicit offset, a PEM CSR
// string, the node's public data key (enrollment only) and an optional lifetime in seconds (one
// hour to 400 days: OutOfRange). The ±300 s clock rule is checked against the `now` passed in.
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tapir.Security.Encoding;
using Tapir.Security.Jose;

namespace Tapir.Security.Pki;

public sealed partial record EnrollmentPayload(DateTimeOffset Timestamp, string CsrPem, Jwk? PublicKey, TimeSpan? Lifetime)
{
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(300);

    private static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(400);

    [GeneratedRegex(@"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();

    /// <summary>Parses an enrollment payload (withPublicKey) or a renewal payload.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> json, bool withPublicKey, [NotNullWhen(true)] out EnrollmentPayload? payload, out Rejection why)
    {
        payload = null;
        if (!StrictJson.TryParse(json, out var document, out why))
        {
            return false;
        }
        using (document)
        {
            var root = document.RootElement;
            why = Rejection.Malformed;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }
            string[] allowed = withPublicKey ? ["timestamp", "x509_csr", "public_key", "x509_lifetime"] : ["timestamp", "x509_csr", "x509_lifetime"];
            if (root.EnumerateObject().Any(member => Array.IndexOf(allowed, member.Name) < 0))
            {
                why = Rejection.ParameterNotAllowed;
                return false;
            }
            if (!root.TryGetProperty("timestamp", out var ts) || !root.TryGetProperty("x509_csr", out var csr) || withPublicKey && !root.TryGetProperty("public_key", out _))
            {
                why = Rejection.ParameterMissing;
                return false;
            }
            if (ts.ValueKind != JsonValueKind.String || !TryTimestamp(ts.GetString()!, out var timestamp) || csr.ValueKind != JsonValueKind.String)
            {
                return false;
            }
            Jwk? key = null;
            if (!TryLifetime(root, out var lifetime, out why) || withPublicKey && !TryPublicKey(root.GetProperty("public_key"), out key, out why))
            {
                return false;
            }
            payload = new EnrollmentPayload(timestamp, csr.GetString()!, key, lifetime);
            return true;
        }
    }

    /// <summary>Whether the timestamp is within ±300 s of now; TooOld or NotYetValid when not.</summary>
    public bool IsFresh(DateTimeOffset now, out Rejection why)
    {
        why = now - Timestamp > MaxClockSkew ? Rejection.TooOld : Timestamp - now > MaxClockSkew ? Rejection.NotYetValid : Rejection.None;
        return why == Rejection.None;
    }

    private static bool TryTimestamp(string text, out DateTimeOffset value)
    {
        value = default;
        return Rfc3339().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out value);
    }

    private static bool TryLifetime(JsonElement root, out TimeSpan? lifetime, out Rejection why)
    {
        lifetime = null;
        why = Rejection.None;
        if (!root.TryGetProperty("x509_lifetime", out var member))
        {
            return true;
        }
        if (member.ValueKind != JsonValueKind.Number || !member.TryGetInt64(out long seconds))
        {
            why = Rejection.Malformed;
            return false;
        }
        if (seconds < CaProfile.MinimumLeafLifetime.TotalSeconds || seconds > MaxLifetime.TotalSeconds)
        {
            why = Rejection.OutOfRange;
            return false;
        }
        lifetime = TimeSpan.FromSeconds(seconds);
        return true;
    }

    private static bool TryPublicKey(JsonElement member, [NotNullWhen(true)] out Jwk? key, out Rejection why)
    {
        if (!JwkParser.TryParse(member, out key, out why))
        {
            return false;
        }
        // A private key has no business here: refuse it rather than store it.
        why = key.HasPrivateKey ? Rejection.ParameterNotAllowed : Rejection.None;
        return why == Rejection.None;
    }
}
