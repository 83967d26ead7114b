// One real core for the aggregate tests, with enrolled nodes: edge1 (Ed25519 data key, signs with
// alg="ed25519"), edge2 (Ed448, signs by key with no alg), edge3 (to be removed), and reader, a core role. Small limits so
// both storage paths and the size refusal are cheap to reach: bodies up to 64 KiB inline, at most
// 4 MiB. Helpers build edm-profile submissions by hand so a test can break exactly one rule.
using System.Security.Cryptography.X509Certificates;
using Tapir.Edge;
using Tapir.Security.HttpSignatures;
using Tapir.Security.Jose;
using Tapir.Storage;
using Tapir.Tests.Core;

namespace Tapir.Tests.Aggregates;

public sealed class AggregateCore : IDisposable
{
    public const long InlineMax = 64 * 1024;
    public const long MaxBytes = 4 * 1024 * 1024;

    /// <summary>A core role (core.core_roles): may read stored aggregates.</summary>
    public const string Reader = "reader.example.net";

    private readonly Dictionary<string, (X509Certificate2 Tls, Jwk Key)> nodes = [];

    public AggregateCore()
    {
        Core = new CoreProcess();
        Core.Environment["TAPIR_CORE__AGGREGATE_INLINE_MAX"] = InlineMax.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Core.Environment["TAPIR_CORE__AGGREGATE_MAX_BYTES"] = MaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Core.Environment["TAPIR_CORE__CORE_ROLES"] = Reader;
        Core.Start();
        Enroll(Reader);
        Enroll("edge1.example.net");
        Enroll("edge2.example.net", "--crv", "Ed448");
        Enroll("edge3.example.net");
    }

    internal CoreProcess Core { get; }

    public string EdgeDir(string name) => Core.File($"edge-{name}");

    internal X509Certificate2 Tls(string name) => nodes[name].Tls;

    internal Jwk Key(string name) => nodes[name].Key;

    /// <summary>Adds and enrolls a node with the real binary (callable from several threads at once).</summary>
    internal void Enroll(string name, params string[] extra)
    {
        string credentials = Core.AddNode(name);
        var r = Core.Tapir(["edge", "enroll", "--credentials", credentials, "--state", EdgeDir(name), .. extra]);
        Assert.True(r.ExitCode == 0, r.Stderr + Core.LogText);
        var state = new EdgeState(EdgeDir(name));
        var identity = (state.TlsIdentity(), state.DataKey());
        lock (nodes)
        {
            nodes[name] = identity;
        }
    }

    internal IReadOnlyList<AggregateRecord> Rows()
    {
        using var db = ReadOnly();
        return AggregateDatabase.List(db);
    }

    internal byte[]? InlinePayload(string id)
    {
        using var db = ReadOnly();
        return AggregateDatabase.InlinePayload(db, id);
    }

    /// <summary>A reader beside the running core: read-only, waiting (not failing) while the core's writer holds a lock.</summary>
    private Microsoft.Data.Sqlite.SqliteConnection ReadOnly()
    {
        Database.SqliteVersion(); // sets the SQLite provider
        var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(Core.StateDir, CoreDatabase.FileName)};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "PRAGMA busy_timeout=5000;";
        cmd.ExecuteNonQuery();
        return db;
    }

    /// <summary>Every file under aggregates/ (payloads and temporary files), relative to the state directory.</summary>
    internal IReadOnlyList<string> Files()
    {
        string root = Path.Combine(Core.StateDir, "aggregates");
        return Directory.Exists(root)
            ? Directory.GetFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Core.StateDir, f)).Order().ToList()
            : [];
    }

    internal RawResponse Send(string node, Submission submission, bool clientCertificate = true)
    {
        using var connection = new RawHttps(Core, clientCertificate ? Tls(node) : null);
        return connection.Send(submission.Target, submission.Headers(), submission.Body);
    }

    internal Submission For(string node, byte[] body) => new(Key(node), node, body);

    public void Dispose()
    {
        foreach (var (tls, _) in nodes.Values)
        {
            tls.Dispose();
        }
        Core.Dispose();
    }
}

/// <summary>An edm-profile submission built by hand: every field, component and parameter can be changed before signing.</summary>
internal sealed class Submission(Jwk key, string keyId, byte[] body)
{
    public string Target { get; set; } = "/api/v1/aggregate/histogram";

    public byte[] Body { get; set; } = body;

    public Jwk Key { get; set; } = key;

    public string KeyId { get; set; } = keyId;

    public string ContentType { get; set; } = "application/binary";

    public string? ContentLength { get; set; }

    public string? ContentDigest { get; set; }

    public string? Interval { get; set; }

    public string? Components { get; set; }

    public string Created { get; set; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The alg parameter; by default the key's RFC 9421 name, none for keys without one (Ed448).</summary>
    public string? Alg { get; set; } = HttpSignatureAlgorithm.NameFor(key);

    public string ExtraParameters { get; set; } = "";

    /// <summary>Changes the header list after signing (duplicate, drop or add a line).</summary>
    public Func<List<(string Name, string Value)>, List<(string Name, string Value)>>? AfterSigning { get; set; }

    public string SignatureParams =>
        $"({Components ?? "\"content-type\" \"content-length\" \"content-digest\"" + (Interval is null ? "" : " \"aggregate-interval\"")});created={Created}{(Alg is null ? "" : $";alg=\"{Alg}\"")};keyid=\"{KeyId}\"{ExtraParameters}";

    public List<(string Name, string Value)> Fields()
    {
        var fields = new List<(string, string)>
        {
            ("Content-Type", ContentType),
            ("Content-Length", ContentLength ?? Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("Content-Digest", ContentDigest ?? Tapir.Security.HttpSignatures.ContentDigest.FieldValueOf(Body)),
        };
        if (Interval is not null)
        {
            fields.Add(("Aggregate-Interval", Interval));
        }
        return fields;
    }

    /// <summary>The signature base for the covered fields (a field not sent gets an empty value: the core refuses it first).</summary>
    public byte[] SignatureBase()
    {
        var fields = Fields();
        string components = SignatureParams[1..SignatureParams.IndexOf(')')];
        var lines = components.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(c => $"{c}: {fields.FirstOrDefault(f => string.Equals($"\"{f.Name}\"", c, StringComparison.OrdinalIgnoreCase)).Item2}");
        return System.Text.Encoding.Latin1.GetBytes(string.Join('\n', lines.Append($"\"@signature-params\": {SignatureParams}")));
    }

    public string SignatureValue => Convert.ToBase64String(JwsCrypto.Sign(Key, Key.ImpliedAlgorithm!.Value, SignatureBase()));

    public List<(string Name, string Value)> Headers()
    {
        var headers = Fields();
        headers.Add(("Signature-Input", $"sig1={SignatureParams}"));
        headers.Add(("Signature", $"sig1=:{SignatureValue}:"));
        return AfterSigning is null ? headers : AfterSigning(headers);
    }
}
