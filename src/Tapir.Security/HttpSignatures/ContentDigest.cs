// Content-Digest (RFC 9530 §2): sha-256 and sha-512 over the content, computed incrementally so
// a body is never held whole. Parsing is strict: a Dictionary of byte sequences with no
// parameters, no key twice, at least one algorithm tapir knows (others are ignored, as §2
// allows), and each known digest of the exact length. Every known digest present must match.
using System.Security.Cryptography;
using Tapir.Security.Encoding;

namespace Tapir.Security.HttpSignatures;

public sealed class ContentDigest : IDisposable
{
    private readonly IncrementalHash sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
    private byte[]? digest256;
    private byte[]? digest512;

    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (digest256 is not null)
        {
            throw new InvalidOperationException("the digest is already finished");
        }
        sha256.AppendData(data);
        sha512.AppendData(data);
        Length += data.Length;
    }

    public byte[] Sha256 => digest256 ??= Finish().Item1;

    public byte[] Sha512 => digest512 ??= Finish().Item2;

    /// <summary>The field value for this content, e.g. <c>sha-256=:…:</c>.</summary>
    public string FieldValue(string algorithm = "sha-256") => algorithm switch
    {
        "sha-256" => $"sha-256=:{Convert.ToBase64String(Sha256)}:",
        "sha-512" => $"sha-512=:{Convert.ToBase64String(Sha512)}:",
        _ => throw new ArgumentException("sha-256 or sha-512", nameof(algorithm)),
    };

    public static string FieldValueOf(ReadOnlySpan<byte> content, string algorithm = "sha-256")
    {
        using var digest = new ContentDigest();
        digest.Append(content);
        return digest.FieldValue(algorithm);
    }

    /// <summary>Parses a Content-Digest value into the digests tapir knows, by algorithm name.</summary>
    public static bool TryParse(string field, [NotNullWhen(true)] out IReadOnlyDictionary<string, byte[]>? digests, out Rejection why)
    {
        digests = null;
        if (!SfParser.TryParseStrictDictionary(field, out var dictionary, out why))
        {
            return false;
        }
        var known = new Dictionary<string, byte[]>();
        foreach (var (name, member) in dictionary)
        {
            int? expected = name switch { "sha-256" => 32, "sha-512" => 64, _ => null };
            if (member.Bare?.AsBytes is not byte[] value || member.Parameters.Count > 0 || expected is int length && value.Length != length)
            {
                why = Rejection.Malformed;
                return false;
            }
            if (expected is not null)
            {
                known[name] = value;
            }
        }
        if (known.Count == 0)
        {
            why = Rejection.AlgorithmNotAllowed;
            return false;
        }
        digests = known;
        why = Rejection.None;
        return true;
    }

    /// <summary>Checks a received Content-Digest against this content; every known digest must match.</summary>
    public bool TryMatch(string field, out Rejection why)
    {
        if (!TryParse(field, out var digests, out why))
        {
            return false;
        }
        foreach (var (name, value) in digests)
        {
            byte[] actual = name == "sha-256" ? Sha256 : Sha512;
            if (!CryptographicOperations.FixedTimeEquals(actual, value))
            {
                why = Rejection.DigestMismatch;
                return false;
            }
        }
        why = Rejection.None;
        return true;
    }

    private (byte[], byte[]) Finish()
    {
        digest256 ??= sha256.GetHashAndReset();
        digest512 ??= sha512.GetHashAndReset();
        return (digest256, digest512);
    }

    public void Dispose()
    {
        sha256.Dispose();
        sha512.Dispose();
    }
}
