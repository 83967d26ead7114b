// Re-verifies a stored aggregate offline (DESIGN §5.4, §8.7) from its row and payload alone: the
// signature base is rebuilt from the stored covered values and @signature-params (parsed from the
// stored Signature-Input) and must equal the stored base; the recorded key must match its
// thumbprint and verify the stored signature with the algorithm the receiver chose; the row's
// metadata must equal the signed values; the payload's length and digests must match.
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tapir.Security.Encoding;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Core.Aggregates;

public enum AggregateVerdict
{
    Ok,
    PayloadTampered,
    MetadataTampered,
    SignatureInvalid,
}

public static partial class AggregateVerifier
{
    public static string Describe(AggregateVerdict verdict) => verdict switch
    {
        AggregateVerdict.Ok => "ok",
        AggregateVerdict.PayloadTampered => "payload tampered",
        AggregateVerdict.MetadataTampered => "metadata tampered",
        _ => "signature invalid",
    };

    /// <param name="payload">Opens the stored payload (inline bytes or its file); null when it is gone.</param>
    public static AggregateVerdict Verify(AggregateRecord a, Func<Stream?> payload, out string detail)
    {
        if (!TryRebuild(a, out var parameters, out var values, out detail))
        {
            return AggregateVerdict.MetadataTampered;
        }
        if (!JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(a.DataKey), out var key, out _) || key!.IsSymmetric || Thumbprint.Compute(key) != a.DataKeyThumbprint)
        {
            detail = "the recorded key does not match its thumbprint";
            return AggregateVerdict.MetadataTampered;
        }
        if (!TrySignature(a, parameters!, key, out detail))
        {
            return AggregateVerdict.SignatureInvalid;
        }
        if (!SignedMetadataMatches(a, parameters!, values!, out detail))
        {
            return AggregateVerdict.MetadataTampered;
        }
        return PayloadMatches(a, payload, out detail) ? AggregateVerdict.Ok : AggregateVerdict.PayloadTampered;
    }

    private static bool TryRebuild(AggregateRecord a, out SignatureParameters? parameters, out List<KeyValuePair<string, string>>? values, out string detail)
    {
        parameters = null;
        values = null;
        detail = "the stored Signature-Input does not parse";
        if (!SfParser.TryParseStrictDictionary(a.SignatureInput, out var inputs, out _) || inputs!.Count != 1 || inputs[0].Key != a.SignatureLabel
            || !SignatureParameters.TryFrom(inputs[0].Value, out parameters, out _))
        {
            return false;
        }
        detail = "the stored component values do not parse";
        try
        {
            using var doc = JsonDocument.Parse(a.Components);
            values = doc.RootElement.EnumerateArray().Select(p => new KeyValuePair<string, string>(p[0].GetString()!, p[1].GetString()!)).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or IndexOutOfRangeException)
        {
            return false;
        }
        detail = "the stored component values are not the signed components";
        if (!values.Select(v => v.Key).SequenceEqual(parameters!.Components.Select(c => c.Serialized), StringComparer.Ordinal))
        {
            return false;
        }
        detail = "the signature base rebuilt from the stored values differs from the stored base";
        return SignatureBase.TryFromValues(values, parameters.Serialized, out var rebuilt) && rebuilt.AsSpan().SequenceEqual(a.SignatureBase);
    }

    /// <summary>The algorithm the receiver accepted: alg when present (it must fit the key), else the key's own (RFC 9421 §3.3.7).</summary>
    private static bool TrySignature(AggregateRecord a, SignatureParameters parameters, Jwk key, out string detail)
    {
        detail = "the signature does not verify with the recorded key";
        JwsAlgorithm algorithm;
        if (parameters.Alg is string name)
        {
            if (name == HttpSignatureAlgorithm.Hmac || !HttpSignatureAlgorithm.TryMap(name, out algorithm) || !HttpSignatureAlgorithm.Fits(key, name))
            {
                return false;
            }
        }
        else if (key.ImpliedAlgorithm is JwsAlgorithm implied)
        {
            algorithm = implied;
        }
        else
        {
            return false;
        }
        return SfParser.TryParseStrictDictionary(a.Signature, out var signatures, out _) && signatures!.Count == 1 && signatures[0].Key == a.SignatureLabel
            && signatures[0].Value.Bare?.AsBytes is byte[] signature && JwsCrypto.Verify(key, algorithm, a.SignatureBase, signature);
    }

    private static bool SignedMetadataMatches(AggregateRecord a, SignatureParameters parameters, List<KeyValuePair<string, string>> values, out string detail)
    {
        string? Signed(string field) => values.Where(v => v.Key == $"\"{field}\"").Select(v => v.Value).FirstOrDefault();
        var mismatches = new List<string>();
        if (parameters.KeyId != a.Creator)
        {
            mismatches.Add("creator");
        }
        if (Signed("content-type") != a.ContentType)
        {
            mismatches.Add("content type");
        }
        if (Signed("content-length") != a.ContentLength.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            mismatches.Add("length");
        }
        if (Signed("content-digest") != a.ContentDigest)
        {
            mismatches.Add("digest");
        }
        if (Signed("aggregate-interval") != a.Interval)
        {
            mismatches.Add("interval");
        }
        if (a.PayloadPath is string path && !PayloadPathPattern().IsMatch(path.Replace(a.Id, "ID", StringComparison.Ordinal)))
        {
            mismatches.Add("payload path");
        }
        detail = $"the stored {string.Join(", ", mismatches)} differ{(mismatches.Count == 1 ? "s" : "")} from the signed values";
        return mismatches.Count == 0;
    }

    private static bool PayloadMatches(AggregateRecord a, Func<Stream?> open, out string detail)
    {
        using var stream = open();
        if (stream is null)
        {
            detail = "the payload is missing";
            return false;
        }
        using var digest = new ContentDigest();
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            digest.Append(buffer.AsSpan(0, read));
        }
        detail = "the payload does not match its length and digests";
        return digest.Length == a.ContentLength && CryptographicOperations.FixedTimeEquals(digest.Sha256, a.Sha256) && digest.TryMatch(a.ContentDigest, out _);
    }

    [GeneratedRegex(@"^aggregates/[0-9]{4}/[0-9]{2}/[0-9]{2}/ID\z", RegexOptions.CultureInvariant)]
    private static partial Regex PayloadPathPattern();
}
