// CSR proof of possession (DESIGN §3) rests on DER-encoded ECDSA P-256 signatures checked by the
// BCL over OpenSSL, behind tapir's strict DER check. Wycheproof's ecdsa_secp256r1_sha256_test.json holds that primitive to the
// suite: every valid signature accepted, every invalid or BER-mangled one refused.
using System.Security.Cryptography;
using Xunit.Abstractions;

namespace Tapir.Security.Tests.Pki;

public sealed class DerEcdsaVectorTests(ITestOutputHelper output)
{
    [Fact]
    public void WycheproofDerP256()
    {
        using var doc = Vectors.Load("wycheproof/ecdsa_secp256r1_sha256_test.json");
        int valid = 0, invalid = 0;
        var failures = new List<string>();
        foreach (var group in doc.RootElement.GetProperty("testGroups").EnumerateArray())
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(Vectors.Hex(group.GetProperty("publicKeyDer").GetString()!), out _);
            foreach (var test in group.GetProperty("tests").EnumerateArray())
            {
                string result = test.GetProperty("result").GetString()!;
                Assert.NotEqual("acceptable", result);
                byte[] signature = Vectors.Hex(test.GetProperty("sig").GetString()!);
                bool ok = Tapir.Security.Pki.DerEcdsaSignature.IsStrict(signature) && key.VerifyData(Vectors.Hex(test.GetProperty("msg").GetString()!), signature,
                    HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
                if (ok != (result == "valid"))
                {
                    failures.Add($"tcId {test.GetProperty("tcId").GetInt32()} ({test.GetProperty("comment").GetString()}): expected {result}");
                }
                if (result == "valid") { valid++; } else { invalid++; }
            }
        }
        output.WriteLine($"wycheproof/ecdsa_secp256r1_sha256_test.json: {valid} valid, {invalid} invalid");
        Assert.Equal(doc.RootElement.GetProperty("numberOfTests").GetInt32(), valid + invalid);
        Assert.Empty(failures);
    }
}
