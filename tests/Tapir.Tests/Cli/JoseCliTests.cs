// `tapir key` and `tapir jws` through the real binary: generate for every algorithm, public and
// thumbprint (checked against openssl's view of the same key for EC), sign in three
// serializations and verify, and refusals with exit 1 and the reason on stderr.
using System.Text.Json;
using Tapir.Security.Jose;

namespace Tapir.Tests.Cli;

public sealed class JoseCliTests
{
    [Theory]
    [InlineData("EdDSA", null)]
    [InlineData("EdDSA", "Ed448")]
    [InlineData("ES256", null)]
    [InlineData("ES384", null)]
    [InlineData("ES512", null)]
    [InlineData("PS256", null)]
    [InlineData("RS256", null)]
    [InlineData("HS256", null)]
    public void GenerateSignVerifyRoundTrip(string alg, string? crv)
    {
        using var dir = new TempDir();
        string key = dir.File("key.jwk");
        var args = new List<string> { "key", "generate", "--alg", alg, "--out", key };
        if (crv is not null) { args.AddRange(["--crv", crv]); }
        var generated = Run.Tapir([.. args]);
        Assert.Equal(0, generated.ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        using var jwk = JsonDocument.Parse(File.ReadAllText(key));
        Assert.Equal(alg, jwk.RootElement.GetProperty("alg").GetString());
        Assert.True(jwk.RootElement.TryGetProperty("kid", out _));

        string trusted = dir.File("trusted.jwk");
        if (alg.StartsWith("HS", StringComparison.Ordinal))
        {
            File.Copy(key, trusted);
            File.SetUnixFileMode(trusted, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        else
        {
            var pub = Run.Tapir("key", "public", key);
            Assert.Equal(0, pub.ExitCode);
            Assert.DoesNotContain("\"d\"", pub.Stdout);
            File.WriteAllText(trusted, pub.Stdout);
            var thumb = Run.Tapir("key", "thumbprint", trusted);
            Assert.Equal(jwk.RootElement.GetProperty("kid").GetString(), thumb.Stdout.Trim());
        }

        File.WriteAllText(dir.File("payload.json"), "{\"hello\":\"world\"}");
        foreach (var form in new[] { "", "--flattened", "--json" })
        {
            var signArgs = new List<string> { "jws", "sign", "--key", key };
            if (form.Length > 0) { signArgs.Add(form); }
            signArgs.Add(dir.File("payload.json"));
            var signed = Run.Tapir([.. signArgs]);
            Assert.True(signed.ExitCode == 0, signed.Stderr);
            File.WriteAllText(dir.File("msg.jws"), signed.Stdout);
            var verifyArgs = new List<string> { "jws", "verify", "--jwks", trusted, dir.File("msg.jws") };
            if (alg.StartsWith("HS", StringComparison.Ordinal)) { verifyArgs.AddRange(["--alg", alg]); }
            var verified = Run.Tapir([.. verifyArgs]);
            Assert.True(verified.ExitCode == 0, verified.Stderr);
            Assert.Equal("{\"hello\":\"world\"}", verified.Stdout);
            Assert.Contains("tapir: verified", verified.Stderr);

            string tampered = signed.Stdout.Contains("eyJoZWxsbyI6IndvcmxkIn0", StringComparison.Ordinal)
                ? signed.Stdout.Replace("eyJoZWxsbyI6IndvcmxkIn0", "eyJoZWxsbyI6IndvcmxkcyJ9", StringComparison.Ordinal)
                : throw new InvalidOperationException("payload not found in the JWS");
            File.WriteAllText(dir.File("bad.jws"), tampered);
            verifyArgs[^(alg.StartsWith("HS", StringComparison.Ordinal) ? 3 : 1)] = dir.File("bad.jws");
            var refused = Run.Tapir([.. verifyArgs]);
            Assert.Equal(1, refused.ExitCode);
            Assert.Equal("", refused.Stdout);
            Assert.StartsWith("tapir: error: JWS refused: BadSignature", refused.Stderr);
        }
    }

    [Fact]
    public void EcKeyMatchesOpensslsPublicKey()
    {
        using var dir = new TempDir();
        string key = dir.File("k.jwk");
        Assert.Equal(0, Run.Tapir("key", "generate", "--alg", "ES256", "--out", key).ExitCode);
        using var json = JsonDocument.Parse(File.ReadAllBytes(key));
        byte[] Member(string name) => Tapir.Security.Encoding.Base64Url.TryDecode(json.RootElement.GetProperty(name).GetString(), out var v) ? v : throw new FormatException(name);
        using (var ec = System.Security.Cryptography.ECDsa.Create(new System.Security.Cryptography.ECParameters
        {
            Curve = System.Security.Cryptography.ECCurve.NamedCurves.nistP256, D = Member("d"), Q = new() { X = Member("x"), Y = Member("y") },
        }))
        {
            File.WriteAllText(dir.File("k.pem"), ec.ExportPkcs8PrivateKeyPem());
        }
        // openssl derives the public key from the private key in the JWK tapir wrote: its SubjectPublicKeyInfo
        // ends in our x||y and is byte for byte the PEM the core serves (JwkPem.ExportPublic).
        var spki = Run.Process("openssl", ["ec", "-in", dir.File("k.pem"), "-pubout"]);
        Assert.Equal(0, spki.ExitCode);
        byte[] der = Convert.FromBase64String(string.Concat(spki.Stdout.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal))));
        Assert.Equal([0x04, .. Member("x"), .. Member("y")], der[^65..]);
        Assert.True(JwkParser.TryParse(File.ReadAllBytes(key), out var jwk, out _));
        Assert.Equal(spki.Stdout.Trim(), JwkPem.ExportPublic(jwk).Trim());
    }

    [Fact]
    public void LoosePermissionsOnAPrivateKeyAreRefused()
    {
        using var dir = new TempDir();
        string key = dir.File("k.jwk");
        Assert.Equal(0, Run.Tapir("key", "generate", "--alg", "EdDSA", "--out", key).ExitCode);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        File.WriteAllText(dir.File("p"), "x");
        var r = Run.Tapir("jws", "sign", "--key", key, dir.File("p"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("accessible by group or others", r.Stderr);
    }

    [Theory]
    [InlineData("key", "generate", "--alg", "none")]
    [InlineData("key", "generate", "--alg", "ES256", "--crv", "Ed448")]
    [InlineData("key", "generate")]
    public void BadKeyArgumentsAreUsageErrors(params string[] args)
    {
        var r = Run.Tapir(args);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("tapir: error:", r.Stderr);
    }

    [Fact]
    public void VerifyWithAnUnknownKidFails()
    {
        using var dir = new TempDir();
        Assert.Equal(0, Run.Tapir("key", "generate", "--alg", "EdDSA", "--kid", "a", "--out", dir.File("a.jwk")).ExitCode);
        Assert.Equal(0, Run.Tapir("key", "generate", "--alg", "EdDSA", "--kid", "b", "--out", dir.File("b.jwk")).ExitCode);
        File.WriteAllText(dir.File("b.pub"), Run.Tapir("key", "public", dir.File("b.jwk")).Stdout);
        File.WriteAllText(dir.File("p"), "x");
        File.WriteAllText(dir.File("m"), Run.Tapir("jws", "sign", "--key", dir.File("a.jwk"), dir.File("p")).Stdout);
        var r = Run.Tapir("jws", "verify", "--jwks", dir.File("b.pub"), dir.File("m"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("KeyNotFound", r.Stderr);
    }
}
