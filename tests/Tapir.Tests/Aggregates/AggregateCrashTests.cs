// Crash safety of the receiver at the scale (DESIGN §5.3, §7, §8.2): 20 enrolled edges send
// 1,000 submissions at once (one connection each; 4 KiB bodies into the database, one in ten
// above core.aggregate_inline_max into files); the core is SIGKILLed after the first 100 answers,
// restarted, and then every submission answered 201 is present and verifies
// (`core aggregates verify --all` exit 0, one ok line per row), the start-up check left no
// temporary file and no payload file without a row, and no row lacks its payload file.
using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Tapir.Tests.Core;

namespace Tapir.Tests.Aggregates;

public sealed class AggregateCrashTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Edges = 20;
    private const int Submissions = 1000;
    private const int KillAfter = 100;

    [Fact]
    public async Task KillDuringThousandConcurrentSubmissionsFromTwentyEdgesLosesNothingAnswered()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var aggregates = new AggregateCore();
        var edges = Enumerable.Range(1, Edges).Select(i => $"crash{i}.example.net").ToList();
        Parallel.ForEach(edges, new ParallelOptions { MaxDegreeOfParallelism = 4 }, name => aggregates.Enroll(name));
        // Signed before the clock starts: 1,000 distinct bodies, each edge's 50 with its own key.
        var requests = Enumerable.Range(0, Submissions).Select(i =>
        {
            string node = edges[i % Edges];
            var body = new byte[i % 10 == 0 ? AggregateCore.InlineMax + 4096 : 4096];
            new Random(i).NextBytes(body);
            var submission = aggregates.For(node, body);
            return (Node: node, Head: Head(submission), Body: body);
        }).ToList();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {Edges} edges enrolled, {Submissions} submissions signed");
        var answered = new ConcurrentDictionary<string, byte>();
        int count = 0;
        var enough = new TaskCompletionSource();
        var root = aggregates.Core.Root;
        var tasks = requests.Select(r => Task.Run(async () =>
        {
            try
            {
                var (status, location) = await Send(aggregates.Core.Port, root, aggregates.Tls(r.Node), r.Head, r.Body);
                if (status == 201)
                {
                    answered[location!.Split('/')[^1]] = 0;
                    if (Interlocked.Increment(ref count) == KillAfter)
                    {
                        enough.TrySetResult();
                    }
                }
            }
            catch (Exception e) when (e is IOException or SocketException or EndOfStreamException or System.Security.Authentication.AuthenticationException)
            {
                // the core died under this submission: it was not answered
            }
        })).ToList();
        Assert.True(await Task.WhenAny(enough.Task, Task.Delay(TimeSpan.FromSeconds(90))) == enough.Task, $"no {KillAfter} answers within 90 s");
        aggregates.Core.Kill();
        await Task.WhenAll(tasks);
        var acknowledged = answered.Keys.ToList();
        Assert.True(acknowledged.Count < Submissions, "every submission was answered before the kill: the crash proved nothing");

        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: killed");
        aggregates.Core.Start();
        var rows = aggregates.Rows();
        var ids = rows.Select(r => r.Id).ToHashSet();
        Assert.All(acknowledged, id => Assert.Contains(id, ids));
        var verify = aggregates.Core.Tapir("core", "aggregates", "verify", "--all");
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
        var lines = verify.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(rows.Count, lines.Length);
        Assert.All(lines, line => Assert.Contains(": ok (", line, StringComparison.Ordinal));
        // No temporary file, exactly one payload file per row stored as a file, none missing.
        Assert.Equal(rows.Where(r => r.PayloadPath is not null).Select(r => r.PayloadPath!).Order(), aggregates.Files());
        Assert.DoesNotContain("is missing", aggregates.Core.LogText, StringComparison.Ordinal);
        output.WriteLine($"SIGKILL after {KillAfter} answers: {acknowledged.Count} of {Submissions} answered 201, {rows.Count} rows after restart, all present and verified ({clock.Elapsed.TotalSeconds:F1} s in all)");
    }

    [Fact]
    public void StartUpCheckRemovesTemporaryAndOrphanedFiles()
    {
        using var aggregates = new AggregateCore();
        const string node = "edge1.example.net";
        var response = aggregates.Send(node, aggregates.For(node, new byte[AggregateCore.InlineMax + 1]));
        Assert.Equal(201, response.Status);
        var kept = aggregates.Files();
        Assert.Single(kept);
        aggregates.Core.Stop();
        string tmp = Path.Combine(aggregates.Core.StateDir, "aggregates", "tmp", "left.part");
        string orphan = Path.Combine(aggregates.Core.StateDir, "aggregates", "2026", "01", "01", "orphan");
        Directory.CreateDirectory(Path.GetDirectoryName(orphan)!);
        File.WriteAllBytes(tmp, [1]);
        File.WriteAllBytes(orphan, [2]);
        aggregates.Core.Start();
        aggregates.Core.AssertLogged("aggregate start-up check: removed 1 temporary files and 1 payload files without a row (never acknowledged): aggregates/2026/01/01/orphan");
        Assert.Equal(kept, aggregates.Files());
    }

    private static byte[] Head(Submission submission)
    {
        var head = new StringBuilder($"POST {submission.Target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        foreach (var (name, value) in submission.Headers())
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }
        return Encoding.Latin1.GetBytes(head.Append("\r\n").ToString());
    }

    /// <summary>One submission on its own mTLS connection, asynchronously (1,000 at once): the status and Location.</summary>
    private static async Task<(int Status, string? Location)> Send(int port, X509Certificate2 root, X509Certificate2 certificate, byte[] head, byte[] body)
    {
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "127.0.0.1",
            ClientCertificates = [certificate],
            LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate,
            RemoteCertificateValidationCallback = EnrollmentClient.TrustsOnly(root),
        });
        await tls.WriteAsync(head);
        await tls.WriteAsync(body);
        await tls.FlushAsync();
        // Connection: close, so the answer ends where the stream does.
        using var answer = new MemoryStream();
        await tls.CopyToAsync(answer);
        string text = Encoding.Latin1.GetString(answer.ToArray());
        if (!text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal))
        {
            throw new EndOfStreamException($"no answer: '{text}'");
        }
        string? location = text.Split("\r\n").FirstOrDefault(l => l.StartsWith("Location:", StringComparison.OrdinalIgnoreCase))?[9..].Trim();
        return (int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture), location);
    }
}
