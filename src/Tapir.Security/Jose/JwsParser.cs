// Parses the three JWS serializations (RFC 7515 §7.1 compact, §7.2.2 flattened, §7.2.1 general)
// strictly: canonical base64url everywhere, no unknown top-level or signature members, no
// duplicate JSON members, exactly three compact segments, no trailing data. Header rules: alg
// must be in the protected header and name a supported algorithm (never "none"); no parameter
// may be both protected and unprotected; crit is refused (tapir understands no extensions), and
// so is b64 (RFC 7797), which tapir does not implement.
using System.Text.Json;
using Tapir.Security.Encoding;

namespace Tapir.Security.Jose;

public static class JwsParser
{
    public const int DefaultMaxBytes = 1 << 20;

    public static bool TryParse(ReadOnlyMemory<byte> input, int maxBytes, [NotNullWhen(true)] out JwsMessage? message, out Rejection why)
    {
        message = null;
        if (input.Length > maxBytes)
        {
            why = Rejection.TooLarge;
            return false;
        }
        return input.Length > 0 && input.Span[0] == (byte)'{'
            ? TryParseJson(input, out message, out why)
            : TryParseCompact(input.Span, out message, out why);
    }

    private static bool TryParseCompact(ReadOnlySpan<byte> input, [NotNullWhen(true)] out JwsMessage? message, out Rejection why)
    {
        message = null;
        why = Rejection.Malformed;
        if (input.Count((byte)'.') != 2)
        {
            return false;
        }
        int first = input.IndexOf((byte)'.');
        int second = first + 1 + input[(first + 1)..].IndexOf((byte)'.');
        var header = input[..first];
        var payload = input[(first + 1)..second];
        var signature = input[(second + 1)..];
        if (!Base64Url.TryDecode(payload, out var payloadBytes) || !Base64Url.TryDecode(signature, out var signatureBytes))
        {
            return false;
        }
        // The header is judged before the signature's presence, so "alg":"none" is named as such.
        if (!TryHeader(System.Text.Encoding.ASCII.GetString(header), default, out var parsed, signatureBytes, out why))
        {
            return false;
        }
        if (signatureBytes.Length == 0)
        {
            why = Rejection.Malformed;
            return false;
        }
        message = new JwsMessage(JwsSerialization.Compact, System.Text.Encoding.ASCII.GetString(payload), payloadBytes, false, [parsed!]);
        return true;
    }

    private static bool TryParseJson(ReadOnlyMemory<byte> input, [NotNullWhen(true)] out JwsMessage? message, out Rejection why)
    {
        message = null;
        if (!StrictJson.TryParse(input, out var document, out why))
        {
            return false;
        }
        using (document)
        {
            var root = document.RootElement;
            why = Rejection.Malformed;
            if (root.ValueKind != JsonValueKind.Object || !StrictJson.TryGetOptionalString(root, "payload", out var payloadB64))
            {
                return false;
            }
            byte[] payload = [];
            if (payloadB64 is not null && !Base64Url.TryDecode(payloadB64, out payload))
            {
                return false;
            }
            var signatures = new List<JwsSignature>();
            JwsSerialization serialization;
            if (root.TryGetProperty("signatures", out var list))
            {
                serialization = JwsSerialization.General;
                if (!OnlyMembers(root, "payload", "signatures") || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
                {
                    return false;
                }
                foreach (var entry in list.EnumerateArray())
                {
                    why = Rejection.Malformed;
                    if (entry.ValueKind != JsonValueKind.Object || !OnlyMembers(entry, "protected", "header", "signature")
                        || !TrySignature(entry, signatures, out why))
                    {
                        return false;
                    }
                }
            }
            else
            {
                serialization = JwsSerialization.Flattened;
                if (!OnlyMembers(root, "payload", "protected", "header", "signature") || !TrySignature(root, signatures, out why))
                {
                    return false;
                }
            }
            message = new JwsMessage(serialization, payloadB64 ?? "", payload, payloadB64 is null, signatures);
            why = Rejection.None;
            return true;
        }
    }

    private static bool TrySignature(JsonElement obj, List<JwsSignature> into, out Rejection why)
    {
        why = Rejection.Malformed;
        if (!StrictJson.TryGetOptionalString(obj, "protected", out var protectedB64)
            || !StrictJson.TryGetOptionalBase64Url(obj, "signature", out var signature) || signature is null || signature.Length == 0)
        {
            return false;
        }
        JsonElement unprotected = default;
        if (obj.TryGetProperty("header", out var header))
        {
            if (header.ValueKind != JsonValueKind.Object)
            {
                return false;
            }
            unprotected = header;
        }
        if (protectedB64 is null)
        {
            // No protected header means alg is unprotected (RFC 7520 §4.7): refused.
            why = unprotected.ValueKind == JsonValueKind.Object && unprotected.TryGetProperty("alg", out _) ? Rejection.UnprotectedHeader : Rejection.Malformed;
            return false;
        }
        if (!TryHeader(protectedB64, unprotected, out var parsed, signature, out why))
        {
            return false;
        }
        into.Add(parsed);
        return true;
    }

    private static bool TryHeader(string protectedB64, JsonElement unprotected, [NotNullWhen(true)] out JwsSignature? signature, byte[] value, out Rejection why)
    {
        signature = null;
        why = Rejection.Malformed;
        // A failed decode leaves why Malformed; a failed parse sets its own reason.
        if (!Base64Url.TryDecode(protectedB64, out var headerBytes) || !StrictJson.TryParse(headerBytes, out var document, out why))
        {
            return false;
        }
        using (document)
        {
            var header = document.RootElement;
            why = Rejection.Malformed;
            if (header.ValueKind != JsonValueKind.Object)
            {
                return false;
            }
            if (unprotected.ValueKind == JsonValueKind.Object)
            {
                foreach (var member in unprotected.EnumerateObject())
                {
                    if (header.TryGetProperty(member.Name, out _))
                    {
                        why = Rejection.HeaderConflict;
                        return false;
                    }
                    if (member.Name is "alg" or "crit" or "b64")
                    {
                        why = member.Name == "alg" ? Rejection.UnprotectedHeader : Rejection.CriticalHeader;
                        return false;
                    }
                }
            }
            if (header.TryGetProperty("crit", out _) || header.TryGetProperty("b64", out _))
            {
                why = Rejection.CriticalHeader;
                return false;
            }
            if (!StrictJson.TryGetOptionalString(header, "alg", out var algName)
                || !StrictJson.TryGetOptionalString(header, "kid", out var kid)
                || !StrictJson.TryGetOptionalString(header, "typ", out var typ))
            {
                return false;
            }
            if (kid is null && unprotected.ValueKind == JsonValueKind.Object && !StrictJson.TryGetOptionalString(unprotected, "kid", out kid))
            {
                return false;
            }
            if (!JwsAlgorithms.TryParse(algName, out var alg))
            {
                why = Rejection.AlgorithmNotAllowed;
                return false;
            }
            signature = new JwsSignature(protectedB64, alg, kid, typ, value);
            why = Rejection.None;
            return true;
        }
    }

    private static bool OnlyMembers(JsonElement obj, params string[] allowed) =>
        obj.EnumerateObject().All(member => allowed.Contains(member.Name));
}
