// `tapir httpsig sign|verify` and `tapir inspect` through the real binary on raw HTTP/1.1 files:
// sign then verify, tampering refused with the reason, and RFC 9421 B.2.6 as a captured request.
using System.Text.Json;

namespace Tapir.Tests.Cli;

public sealed class HttpSigCliTests
{
    private const string Request = "POST /api/v1/aggregate/histogram HTTP/1.1\r\nHost: core.example.net:8443\r\nContent-Type: application/vnd.apache.parquet\r\n\r\nPAR1-bytes";

    private static (TempDir Dir, string Key, string Pub) Keys()
    {
        var dir = new TempDir();
        string key = dir.File("edge.jwk");
        Assert.Equal(0, Run.Tapir("key", "generate", "--alg", "EdDSA", "--kid", "edge1.example.net", "--out", key).ExitCode);
        File.WriteAllText(dir.File("edge.pub"), Run.Tapir("key", "public", key).Stdout);
        return (dir, key, dir.File("edge.pub"));
    }

    [Fact]
    public void SignThenVerify()
    {
        var (dir, key, pub) = Keys();
        using (dir)
        {
            File.WriteAllText(dir.File("req.http"), Request);
            var signed = Run.Tapir("httpsig", "sign", "--key", key, "--keyid", "edge1.example.net", dir.File("req.http"));
            Assert.True(signed.ExitCode == 0, signed.Stderr);
            Assert.Contains("Content-Digest: sha-256=:", signed.Stdout);
            Assert.Contains("Content-Length: 10", signed.Stdout);
            Assert.Matches("Signature-Input: sig1=\\(\"content-type\" \"content-length\" \"content-digest\"\\);created=\\d+;alg=\"ed25519\";keyid=\"edge1.example.net\"", signed.Stdout);
            File.WriteAllText(dir.File("signed.http"), signed.Stdout);

            var verified = Run.Tapir("httpsig", "verify", "--jwks", pub, "--max-age", "1h", dir.File("signed.http"));
            Assert.True(verified.ExitCode == 0, verified.Stderr);
            Assert.Contains("content-digest: ok", verified.Stdout);
            Assert.Contains("\"content-type\": application/vnd.apache.parquet", verified.Stdout);
            Assert.Contains("verdict: ok, label sig1, keyid edge1.example.net", verified.Stdout);

            var inspected = Run.Tapir("inspect", "--jwks", pub, dir.File("signed.http"));
            Assert.Equal(0, inspected.ExitCode);
            Assert.StartsWith("HTTP request: POST /api/v1/aggregate/histogram", inspected.Stdout);

            File.WriteAllText(dir.File("body.http"), signed.Stdout.Replace("PAR1-bytes", "PAR1-BYTES", StringComparison.Ordinal));
            var badBody = Run.Tapir("httpsig", "verify", "--jwks", pub, dir.File("body.http"));
            Assert.Equal(1, badBody.ExitCode);
            Assert.Equal("tapir: error: Content-Digest refused: DigestMismatch.\n", badBody.Stderr);

            File.WriteAllText(dir.File("type.http"), signed.Stdout.Replace("vnd.apache.parquet", "binary", StringComparison.Ordinal));
            var badType = Run.Tapir("httpsig", "verify", "--jwks", pub, dir.File("type.http"));
            Assert.Equal(1, badType.ExitCode);
            Assert.Equal("tapir: error: signature refused: BadSignature.\n", badType.Stderr);
        }
    }

    [Fact]
    public void Rfc9421B26AsACapturedRequest()
    {
        using var dir = new TempDir();
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Repo.Root, "tests", "vectors", "rfc9421.json")));
        var example = doc.RootElement.GetProperty("signature_examples").EnumerateArray().Single(e => e.GetProperty("id").GetString() == "B.2.6");
        string raw = doc.RootElement.GetProperty("messages").GetProperty("test-request").GetProperty("raw").GetString()!;
        int split = raw.IndexOf("\n\n", StringComparison.Ordinal);
        string captured = raw[..split].Replace("\n", "\r\n", StringComparison.Ordinal)
            + $"\r\nSignature-Input: {example.GetProperty("signature_input_member").GetString()}\r\nSignature: {example.GetProperty("signature_member").GetString()}\r\n\r\n" + raw[(split + 2)..];
        File.WriteAllText(dir.File("b26.http"), captured);
        string jwk = doc.RootElement.GetProperty("keys").GetProperty("test-key-ed25519").GetProperty("jwk").GetRawText();
        File.WriteAllText(dir.File("key.json"), jwk);
        File.SetUnixFileMode(dir.File("key.json"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var r = Run.Tapir("httpsig", "verify", "--jwks", dir.File("key.json"), dir.File("b26.http"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains(example.GetProperty("signature_base").GetString()!, r.Stdout.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.Contains("verdict: ok, label sig-b26, keyid test-key-ed25519", r.Stdout);
    }

    [Fact]
    public void InspectRecognisesAJws()
    {
        var (dir, key, pub) = Keys();
        using (dir)
        {
            File.WriteAllText(dir.File("p.json"), "{\"x\":1}");
            File.WriteAllText(dir.File("m.jws"), Run.Tapir("jws", "sign", "--key", key, "--flattened", dir.File("p.json")).Stdout);
            var r = Run.Tapir("inspect", "--jwks", pub, dir.File("m.jws"));
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.StartsWith("JWS, Flattened serialization, 1 signature(s): alg EdDSA kid edge1.example.net", r.Stdout);
            Assert.Contains("{\"x\":1}", r.Stdout);
            File.WriteAllText(dir.File("junk"), "hello");
            var junk = Run.Tapir("inspect", "--jwks", pub, dir.File("junk"));
            Assert.Equal(1, junk.ExitCode);
            Assert.StartsWith("tapir: error: neither an HTTP request nor a JWS", junk.Stderr);
        }
    }

    [Fact]
    public void AHugeChunkSizeIsRefusedWithOneErrorLine()
    {
        var (dir, _, pub) = Keys();
        using (dir)
        {
            string file = dir.File("chunked.http");
            File.WriteAllText(file, "POST /api/v1/aggregate/histogram HTTP/1.1\r\nHost: core.example.net\r\nTransfer-Encoding: chunked\r\n\r\n7fffffff\r\nab\r\n0\r\n\r\n");
            var verify = Run.Tapir("httpsig", "verify", "--jwks", pub, file);
            Assert.Equal(1, verify.ExitCode);
            Assert.Equal($"tapir: error: {file} is not a well-formed HTTP/1.1 request.\n", verify.Stderr);
            var inspect = Run.Tapir("inspect", "--jwks", pub, file);
            Assert.Equal(1, inspect.ExitCode);
            Assert.Equal("tapir: error: neither an HTTP request nor a JWS (Malformed).\n", inspect.Stderr);
        }
    }
}
