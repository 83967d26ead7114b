// `tapir httpsig sign|verify` and `tapir inspect`: offline RFC 9421 tools for reviewers, working
// on raw HTTP/1.1 requests as captured from the wire, and on JWS files (DESIGN §1).
using System.CommandLine;
using System.Globalization;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Cli;

public static class HttpSigCommands
{
    /// <summary>9999-12-31T23:59:59Z, the last second a DateTimeOffset holds.</summary>
    private const long MaxUnixSeconds = 253402300799;

    public static Command Build(TextWriter output) =>
        CommandTree.Group("httpsig", "Offline HTTP Message Signature (RFC 9421) tools.", Sign(output), Verify(output));

    private static Command Sign(TextWriter output)
    {
        var key = new Option<string>("--key") { Description = "Private JWK file to sign with.", Required = true };
        var keyId = new Option<string>("--keyid") { Description = "keyid parameter (the node name).", Required = true };
        var components = new Option<string?>("--components") { Description = "Covered components, comma-separated (default: the edm profile content-type,content-length,content-digest)." };
        var noAlg = new Option<bool>("--no-alg") { Description = "Omit the alg parameter (the verifier takes the algorithm from the key)." };
        var created = new Option<long?>("--created") { Description = "created, as Unix seconds (default: now)." };
        var scheme = new Option<string>("--scheme") { Description = "Scheme the request is sent over.", DefaultValueFactory = _ => "https" };
        var file = new Argument<string>("REQUEST-FILE") { Description = "A raw HTTP/1.1 request (- for standard input)." };
        var sign = new Command("sign", "Add Content-Digest and an RFC 9421 signature to a raw HTTP request and print it.") { key, keyId, components, noAlg, created, scheme, file };
        sign.SetAction(parsed =>
        {
            var message = ReadMessage(parsed.GetValue(file)!, parsed.GetValue(scheme)!);
            var jwk = KeyFiles.ReadJwk(parsed.GetValue(key)!);
            var extra = new List<KeyValuePair<string, string>>();
            if (message.Body.Length > 0 && message.Values("content-digest").Count == 0)
            {
                extra.Add(new("Content-Digest", ContentDigest.FieldValueOf(message.Body)));
            }
            if (message.Values("content-length").Count == 0)
            {
                extra.Add(new("Content-Length", message.Body.Length.ToString(CultureInfo.InvariantCulture)));
            }
            message = message.WithFields(extra);
            var when = parsed.GetValue(created) is long seconds
                ? seconds is >= 0 and <= MaxUnixSeconds ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                    : throw new TapirException($"--created: {seconds} is not Unix seconds from 0 to {MaxUnixSeconds}.") { ExitCode = ExitCodes.Usage }
                : DateTimeOffset.UtcNow;
            var list = parsed.GetValue(components)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            HttpSignature signature;
            try
            {
                signature = HttpSigner.Sign(message, jwk, parsed.GetValue(keyId)!, when, list, includeAlg: !parsed.GetValue(noAlg));
            }
            catch (ArgumentException e)
            {
                throw new TapirException(e.Message);
            }
            var signed = message.WithFields([new("Signature-Input", signature.SignatureInput), new("Signature", signature.Signature)]);
            output.Flush();
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(HttpMessageText.Write(signed));
            return ExitCodes.Success;
        });
        return sign;
    }

    private static Command Verify(TextWriter output)
    {
        var jwks = new Option<string>("--jwks") { Description = "Trusted JWK set (or single JWK) file; keyid selects the key.", Required = true };
        var maxAge = new Option<string?>("--max-age") { Description = "Refuse signatures older than this (e.g. 24h); default: no limit, captures may be old." };
        var verifyScheme = new Option<string>("--scheme") { Description = "Scheme the request was received over.", DefaultValueFactory = _ => "https" };
        var verifyFile = new Argument<string>("REQUEST-FILE") { Description = "A raw HTTP/1.1 request (- for standard input)." };
        var verify = new Command("verify", "Check a raw HTTP request's Content-Digest and RFC 9421 signature; print the signature base and verdict.") { jwks, maxAge, verifyScheme, verifyFile };
        verify.SetAction(parsed =>
        {
            var message = ReadMessage(parsed.GetValue(verifyFile)!, parsed.GetValue(verifyScheme)!);
            var set = KeyFiles.ReadJwkSet(parsed.GetValue(jwks)!);
            TimeSpan? age = parsed.GetValue(maxAge) is string text
                ? Settings.Duration(text, "--max-age", new(TimeSpan.FromSeconds(1), Config.Durations.Longest))
                : null;
            return VerifyRequest(message, set, age, output);
        });
        return verify;
    }

    public static Command BuildInspect(TextWriter output)
    {
        var jwks = new Option<string>("--jwks") { Description = "Trusted JWK set (or single JWK) file.", Required = true };
        var file = new Argument<string>("FILE") { Description = "A captured HTTP request or a JWS (compact or JSON)." };
        var inspect = new Command("inspect", "Recognise a captured request or JWS and verify it.") { jwks, file };
        inspect.SetAction(parsed =>
        {
            byte[] bytes = InputFile.Read(parsed.GetValue(file)!, InputFile.RequestMaxBytes);
            var set = KeyFiles.ReadJwkSet(parsed.GetValue(jwks)!);
            if (HttpMessageText.TryParse(bytes, "https", out var message) && message.IsRequest)
            {
                output.WriteLine($"HTTP request: {message.Method} {message.Target}, {message.Body.Length} body bytes");
                return VerifyRequest(message, set, null, output);
            }
            var trimmed = bytes.AsSpan().TrimEnd("\r\n"u8).ToArray();
            if (!JwsParser.TryParse(trimmed, JwsParser.DefaultMaxBytes, out var jws, out var why))
            {
                throw new TapirException($"neither an HTTP request nor a JWS ({why}).");
            }
            output.WriteLine($"JWS, {jws.Serialization} serialization, {jws.Signatures.Count} signature(s): " +
                string.Join(", ", jws.Signatures.Select(s => $"alg {s.Alg} kid {s.Kid ?? "-"}")));
            if (!JwsVerifier.TryVerify(jws, new JwsPolicy(JwsAlgorithms.Asymmetric, set), out var verified, out why))
            {
                throw new TapirException($"JWS refused: {why}.");
            }
            output.WriteLine($"verdict: ok, payload {verified.Payload.Length} bytes:");
            output.WriteLine(System.Text.Encoding.UTF8.GetString(verified.Payload));
            return ExitCodes.Success;
        });
        return inspect;
    }

    private static int VerifyRequest(HttpMessage message, JwkSet set, TimeSpan? maxAge, TextWriter output)
    {
        var digests = message.Values("content-digest");
        if (message.Body.Length > 0 || digests.Count > 0)
        {
            using var digest = new ContentDigest();
            digest.Append(message.Body);
            if (!digest.TryMatch(string.Join(", ", digests), out var digestWhy))
            {
                throw new TapirException($"Content-Digest refused: {digestWhy}.");
            }
            output.WriteLine("content-digest: ok");
        }
        var policy = new HttpSignaturePolicy { MaxAge = maxAge, ClockSkew = TimeSpan.FromDays(36500), MaxSignatures = 8 };
        if (!HttpVerifier.TryVerify(message, policy, set.Find, DateTimeOffset.UtcNow, out var verified, out var why))
        {
            throw new TapirException($"signature refused: {why}.");
        }
        output.WriteLine("signature base:");
        output.WriteLine(System.Text.Encoding.Latin1.GetString(verified.SignatureBase));
        output.WriteLine($"verdict: ok, label {verified.Label}, keyid {verified.Parameters.KeyId}, {verified.Algorithm}, created {DateTimeOffset.FromUnixTimeSeconds(verified.Parameters.Created ?? 0):u}");
        return ExitCodes.Success;
    }

    private static HttpMessage ReadMessage(string path, string scheme)
    {
        byte[] bytes = InputFile.Read(path, InputFile.RequestMaxBytes);
        if (!HttpMessageText.TryParse(bytes, scheme, out var message) || !message.IsRequest)
        {
            throw new TapirException($"{path} is not a well-formed HTTP/1.1 request.");
        }
        return message;
    }
}
