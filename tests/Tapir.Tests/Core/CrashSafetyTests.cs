// Crash safety (DESIGN §7, issue #5): SIGKILL the core in the middle of 50 concurrent
// enrollments, restart it, and check that every enrollment answered 200 is present with the very
// certificate it was sent, and that no node is half-written: enrolled means data key, thumbprint
// and certificate and no secret; created means none of those and the secret still there.
using System.Collections.Concurrent;
using System.Text.Json;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Tests.Core;

public sealed class CrashSafetyTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task KillDuringConcurrentEnrollmentsLosesNothingAnswered()
    {
        // The kill must land while enrollments are in flight; on a fast run all 50 may finish
        // first, which proves nothing, so the scenario is repeated (each run fully checked).
        var runs = new List<(int Answered, int Created)>();
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var run = await RunOnce();
            runs.Add(run);
            output.WriteLine($"run {attempt + 1}: SIGKILL after the first answer; {run.Answered} answered 200 and present after restart, {run.Created} untouched, none half-written");
            if (run.Created > 0)
            {
                return;
            }
        }
        Assert.Fail($"no run was interrupted mid-way: {string.Join(", ", runs)}");
    }

    private static async Task<(int Answered, int Created)> RunOnce()
    {
        using var core = new CoreProcess();
        var bodies = new Dictionary<string, string>();
        for (int i = 0; i < 50; i++)
        {
            string name = $"edge{i:00}.example.net";
            var creds = EnrollmentClient.Read(core.AddNode(name));
            bodies[name] = EnrollmentClient.Enrollment(creds, JwkGenerator.Generate(JwsAlgorithm.EdDSA, kid: name));
        }
        core.Start();
        var answered = new ConcurrentDictionary<string, string>();
        int responses = 0;
        using var client = EnrollmentClient.Client(core);
        using var go = new ManualResetEventSlim();
        var tasks = bodies.Select(b => Task.Run(async () =>
        {
            go.Wait();
            try
            {
                var content = new StringContent(b.Value);
                using var response = await client.PostAsync($"api/v1/node/{b.Key}/enroll", content);
                string body = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode == 200)
                {
                    using var doc = JsonDocument.Parse(body);
                    answered[b.Key] = doc.RootElement.GetProperty("x509_certificate_serial_number").GetString()!;
                }
            }
            catch (HttpRequestException)
            {
                // cut off by the kill: no answer, so no promise was made
            }
            catch (TaskCanceledException)
            {
            }
            Interlocked.Increment(ref responses);
        })).ToList();
        go.Set();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (answered.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1);
        }
        core.Kill();
        await Task.WhenAll(tasks);
        Assert.False(answered.IsEmpty, "the kill came before any enrollment was answered");

        // Restart on the same state; the database must open (WAL recovery) and serve again.
        core.Start();
        using (var healthy = EnrollmentClient.Client(core))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await healthy.GetAsync("healthz")).StatusCode);
        }
        core.Stop();
        using var db = CoreDatabase.Open(Path.Combine(core.StateDir, CoreDatabase.FileName));
        int enrolled = 0, created = 0;
        foreach (var node in CoreDatabase.ListNodes(db))
        {
            var certificates = CoreDatabase.Certificates(db, node.Name);
            if (node.State == "enrolled")
            {
                enrolled++;
                Assert.NotNull(node.DataKey);
                Assert.NotNull(node.DataKeyThumbprint);
                Assert.Null(node.EnrollmentSecret);
                Assert.Single(certificates);
            }
            else
            {
                created++;
                Assert.Equal("created", node.State);
                Assert.Null(node.DataKey);
                Assert.NotNull(node.EnrollmentSecret);
                Assert.Empty(certificates);
                Assert.False(answered.ContainsKey(node.Name), $"{node.Name} was answered 200 but is not enrolled");
            }
        }
        foreach (var (name, serial) in answered)
        {
            var certificate = Assert.Single(CoreDatabase.Certificates(db, name));
            Assert.Equal(serial, new System.Numerics.BigInteger(Convert.FromHexString(certificate.Serial), isUnsigned: true, isBigEndian: true).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.Equal(50, enrolled + created);
        return (answered.Count, created);
    }
}
