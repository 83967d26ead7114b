// The verifier's refusals, one rule each with the exact Rejection, under the aggregate profile of
// DESIGN §5.2 and the real edm signature shape.
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;

namespace Tapir.Security.Tests.HttpSignatures;

public sealed class HttpVerifierPolicyTests
{
    private static readonly Jwk Edge = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "edge1.example.net");
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private static readonly byte[] Body = "PAR1 aggregate bytes"u8.ToArray();

    private static HttpMessage Request(params KeyValuePair<string, string>[] extra) => new()
    {
        Method = "POST",
        Target = "/api/v1/aggregate/histogram",
        Fields = new List<KeyValuePair<string, string>>
        {
            new("Host", "core.example.net:8443"),
            new("Content-Type", "application/vnd.apache.parquet"),
            new("Content-Length", Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("Content-Digest", ContentDigest.FieldValueOf(Body)),
        }.Concat(extra).ToList(),
        Body = Body,
    };

    private static HttpMessage Signed(HttpMessage message, HttpSignature signature) =>
        message.WithFields([new("Signature-Input", signature.SignatureInput), new("Signature", signature.Signature)]);

    private static HttpMessage SignedEdm(DateTimeOffset? created = null, Jwk? key = null, IReadOnlyList<string>? components = null, HttpMessage? message = null, DateTimeOffset? expires = null)
    {
        message ??= Request();
        return Signed(message, HttpSigner.Sign(message, key ?? Edge, "edge1.example.net", created ?? Now, components, expires: expires));
    }

    private static Rejection Refusal(HttpMessage message, HttpSignaturePolicy? policy = null, Jwk? trusted = null)
    {
        bool ok = HttpVerifier.TryVerify(message, policy ?? HttpSignaturePolicy.Aggregates(TimeSpan.FromHours(24)),
            k => k == "edge1.example.net" ? PublicOrSecret(trusted ?? Edge) : null, Now, out _, out var why);
        Assert.False(ok);
        return why;
    }

    private static Jwk PublicOrSecret(Jwk key) => key.IsSymmetric ? key : key.PublicKey();

    [Fact]
    public void EdmProfileVerifies()
    {
        var message = SignedEdm();
        Assert.StartsWith("sig1=(\"content-type\" \"content-length\" \"content-digest\");created=1800000000;alg=\"ed25519\";keyid=\"edge1.example.net\"",
            message.Values("signature-input")[0]);
        Assert.True(HttpVerifier.TryVerify(message, HttpSignaturePolicy.Aggregates(TimeSpan.FromHours(24)), _ => Edge.PublicKey(), Now, out var verified, out var why), why.ToString());
        Assert.Equal("edge1.example.net", verified.Parameters.KeyId);
        Assert.Equal(3, verified.ComponentValues.Count);
    }

    [Fact]
    public void Ed448AndEs512SignWithoutAlg()
    {
        foreach (var key in new[] { JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed448", "edge1.example.net"), JwkGenerator.Generate(JwsAlgorithm.ES512, kid: "edge1.example.net") })
        {
            var message = SignedEdm(key: key);
            Assert.DoesNotContain("alg=", message.Values("signature-input")[0]);
            Assert.True(HttpVerifier.TryVerify(message, HttpSignaturePolicy.Aggregates(TimeSpan.FromHours(24)), _ => key.PublicKey(), Now, out _, out var why), why.ToString());
        }
    }

    [Fact]
    public void MissingRequiredComponentIsRefused() =>
        Assert.Equal(Rejection.ComponentMissing, Refusal(SignedEdm(components: ["content-type", "content-digest"])));

    [Fact]
    public void AggregateIntervalMustBeCoveredWhenSent()
    {
        var message = Request(new KeyValuePair<string, string>("Aggregate-Interval", "2026-11-29T10:00:00Z/PT1M"));
        Assert.Equal(Rejection.ComponentMissing, Refusal(SignedEdm(message: message)));
        var covered = SignedEdm(message: message, components: ["content-type", "content-length", "content-digest", "aggregate-interval"]);
        Assert.True(HttpVerifier.TryVerify(covered, HttpSignaturePolicy.Aggregates(TimeSpan.FromHours(24)), _ => Edge.PublicKey(), Now, out _, out _));
    }

    [Fact]
    public void TimeRulesHold()
    {
        Assert.Equal(Rejection.NotYetValid, Refusal(SignedEdm(created: Now.AddSeconds(61))));
        Assert.Equal(Rejection.TooOld, Refusal(SignedEdm(created: Now.AddHours(-25))));
        Assert.Equal(Rejection.Expired, Refusal(SignedEdm(created: Now.AddMinutes(-2), expires: Now.AddSeconds(-1))));
        Assert.True(HttpVerifier.TryVerify(SignedEdm(created: Now.AddSeconds(59)), HttpSignaturePolicy.Aggregates(TimeSpan.FromHours(24)), _ => Edge.PublicKey(), Now, out _, out _));
    }

    [Fact]
    public void UnknownKeyAndWrongKeyAreRefused()
    {
        var other = JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: "edge1.example.net");
        Assert.Equal(Rejection.BadSignature, Refusal(SignedEdm(key: other)));
        var message = Request();
        var signature = HttpSigner.Sign(message, Edge, "edge2.example.net", Now);
        Assert.Equal(Rejection.KeyNotFound, Refusal(Signed(message, signature)));
    }

    [Fact]
    public void AlgNotMatchingTheKeyIsRefused()
    {
        var ec = JwkGenerator.Generate(JwsAlgorithm.ES256, kid: "edge1.example.net");
        // An ecdsa-p256-sha256 signature checked against an Ed25519 key.
        Assert.Equal(Rejection.KeyMismatch, Refusal(SignedEdm(key: ec)));
        // ed25519 named for an Ed448 key.
        var ed448 = JwkGenerator.Generate(JwsAlgorithm.EdDSA, "Ed448", "edge1.example.net");
        string input = SignedEdm().Values("signature-input")[0];
        var forged = Request().WithFields([new("Signature-Input", input), new("Signature", "sig1=:" + Convert.ToBase64String(new byte[114]) + ":")]);
        Assert.Equal(Rejection.KeyMismatch, Refusal(forged, trusted: ed448));
    }

    [Fact]
    public void HmacIsNeverAcceptedForAggregates()
    {
        var secret = JwkGenerator.Generate(JwsAlgorithm.HS256, kid: "edge1.example.net");
        Assert.Equal(Rejection.AlgorithmNotAllowed, Refusal(SignedEdm(key: secret), trusted: secret));
    }

    [Fact]
    public void UnknownParameterIsRefused()
    {
        string input = SignedEdm().Values("signature-input")[0] + ";foo=\"bar\"";
        var message = Request().WithFields([new("Signature-Input", input), new("Signature", SignedEdm().Values("signature")[0])]);
        Assert.Equal(Rejection.ParameterNotAllowed, Refusal(message));
    }

    [Fact]
    public void MissingCreatedOrKeyidIsRefused()
    {
        var message = Request();
        var sig = HttpSigner.Sign(message, Edge, "edge1.example.net", Now);
        string noCreated = sig.SignatureInput.Replace(";created=1800000000", "", StringComparison.Ordinal);
        Assert.Equal(Rejection.ParameterMissing, Refusal(message.WithFields([new("Signature-Input", noCreated), new("Signature", sig.Signature)])));
    }

    [Fact]
    public void DuplicatesAreRefused()
    {
        var message = Request();
        var sig = HttpSigner.Sign(message, Edge, "edge1.example.net", Now);
        string dupComponent = sig.SignatureInput.Replace("(\"content-type\"", "(\"content-type\" \"content-type\"", StringComparison.Ordinal);
        Assert.Equal(Rejection.DuplicateMember, Refusal(message.WithFields([new("Signature-Input", dupComponent), new("Signature", sig.Signature)])));
        string dupParam = sig.SignatureInput + ";created=1800000001";
        Assert.Equal(Rejection.DuplicateMember, Refusal(message.WithFields([new("Signature-Input", dupParam), new("Signature", sig.Signature)])));
        Assert.Equal(Rejection.DuplicateMember, Refusal(message.WithFields([new("Signature-Input", sig.SignatureInput + ", " + sig.SignatureInput), new("Signature", sig.Signature)])));
    }

    [Fact]
    public void TwoSignaturesWhereOneIsAllowedAreRefused()
    {
        var message = Request();
        var a = HttpSigner.Sign(message, Edge, "edge1.example.net", Now, label: "a");
        var b = HttpSigner.Sign(message, Edge, "edge1.example.net", Now, label: "b");
        Assert.Equal(Rejection.TooManySignatures, Refusal(message.WithFields([
            new("Signature-Input", $"{a.SignatureInput}, {b.SignatureInput}"), new("Signature", $"{a.Signature}, {b.Signature}")])));
    }

    [Fact]
    public void TamperedCoveredValueIsRefused()
    {
        var message = SignedEdm();
        var tampered = new HttpMessage
        {
            Method = message.Method, Target = message.Target, Body = message.Body,
            Fields = message.Fields.Select(f => f.Key == "Content-Type" ? new KeyValuePair<string, string>(f.Key, "application/binary") : f).ToList(),
        };
        Assert.Equal(Rejection.BadSignature, Refusal(tampered));
    }

    [Fact]
    public void MissingOrMalformedFieldsAreRefused()
    {
        Assert.Equal(Rejection.SignatureMissing, Refusal(Request()));
        var sig = HttpSigner.Sign(Request(), Edge, "edge1.example.net", Now);
        Assert.Equal(Rejection.Malformed, Refusal(Request().WithFields([new("Signature-Input", sig.SignatureInput), new("Signature", "sig1=\"not bytes\"")])));
        Assert.Equal(Rejection.Malformed, Refusal(Request().WithFields([new("Signature-Input", sig.SignatureInput), new("Signature", "other=:AAAA:")])));
        Assert.Equal(Rejection.TooLarge, Refusal(Request().WithFields([new("Signature-Input", sig.SignatureInput + new string(' ', 9000)), new("Signature", sig.Signature)])));
    }
}
