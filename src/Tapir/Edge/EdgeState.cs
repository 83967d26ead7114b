// The edge's state directory (DESIGN §7, issue #5): tls.key (0600), tls.crt, ca.crt,
// datakey.jwk (0600), trusted.jwks, bootstrap.json, and config/ (what `edge run` received, see
// Agent/ConfigStore.cs). A renewal writes tls.key.next and
// tls.crt.next, then renames key and certificate in turn; loading finishes a rename a crash
// interrupted, so the pair on disk always matches and the old pair stays until the new one is whole.
// renew.lock serialises renewals: whoever renews (`tapir edge renew`, the agent's RenewalLoop)
// holds an exclusive flock on it from reading the current pair to writing the new one, and a running
// agent, once started, reads a changed pair only while it can take that lock (never half-way
// through a swap).
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tapir.Logging;
using Tapir.Security.Jose;
using Tapir.Storage;

namespace Tapir.Edge;

public sealed class EdgeState(string directory)
{
    public string Directory { get; } = directory;

    public string PathOf(string file) => Path.Combine(Directory, file);

    public bool IsEnrolled => File.Exists(PathOf("tls.crt")) && File.Exists(PathOf("datakey.jwk"));

    public Jwk DataKey()
    {
        byte[] json = PrivateKeyFile.Read(PathOf("datakey.jwk"));
        return JwkParser.TryParse(json, out var key, out var why) && key.HasPrivateKey ? key : throw new TapirException($"{PathOf("datakey.jwk")}: not a private JWK ({why}).");
    }

    public X509Certificate2 Root() => Pem.ReadCertificate(PathOf("ca.crt"));

    public X509Certificate2 TlsIdentity()
    {
        FinishInterruptedRenewal();
        return Pem.ReadCertificateWithKey(PathOf("tls.crt"), PathOf("tls.key"));
    }

    /// <summary>
    /// The TLS pair on disk if its certificate is no longer <paramref name="current"/> (renewed by
    /// another process, `tapir edge renew`), loaded as strictly as at start; null if it is unchanged
    /// or a renewal holds renew.lock now (the caller asks again at its next connect).
    /// </summary>
    public X509Certificate2? ChangedTlsIdentity(X509Certificate2 current)
    {
        if (!File.Exists(PathOf("tls.key.next")) && !File.Exists(PathOf("tls.crt.next")) && SameCertificate(current))
        {
            return null;
        }
        using var held = TryLockRenewal();
        if (held is null)
        {
            return null;
        }
        var identity = TlsIdentity();
        if (identity.RawDataMemory.Span.SequenceEqual(current.RawDataMemory.Span))
        {
            identity.Dispose();
            return null;
        }
        return identity;
    }

    /// <summary>The TLS pair on disk, read under renew.lock so that no renewal is half-way through its swap.</summary>
    public async Task<X509Certificate2> LockedTlsIdentityAsync(TimeSpan wait, CancellationToken cancel)
    {
        using var held = await LockRenewalAsync(wait, cancel).ConfigureAwait(false);
        return TlsIdentity();
    }

    private bool SameCertificate(X509Certificate2 current)
    {
        using var onDisk = Pem.ReadCertificate(PathOf("tls.crt"));
        return onDisk.RawDataMemory.Span.SequenceEqual(current.RawDataMemory.Span);
    }

    /// <summary>
    /// The exclusive lock on renew.lock (flock, released when disposed or when the process ends),
    /// waiting for another renewal to finish for at most <paramref name="wait"/>.
    /// </summary>
    public async Task<IDisposable> LockRenewalAsync(TimeSpan wait, CancellationToken cancel)
    {
        var deadline = DateTimeOffset.UtcNow + wait;
        bool logged = false;
        while (true)
        {
            if (TryLockRenewal() is { } held)
            {
                return held;
            }
            if (DateTimeOffset.UtcNow >= deadline)
            {
                throw new TapirException($"another renewal of {Directory} is still in progress after {Config.Durations.Format(wait)} ({PathOf("renew.lock")} is locked); keeping the current certificate.");
            }
            if (!logged)
            {
                Log.Info($"waiting for another renewal of {Directory} to finish ({PathOf("renew.lock")} is locked)");
                logged = true;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancel).ConfigureAwait(false);
        }
    }

    /// <summary>The exclusive lock on renew.lock, or null while another process or thread holds it.</summary>
    private FileStream? TryLockRenewal()
    {
        try
        {
            // FileShare.None: .NET takes flock(LOCK_EX | LOCK_NB) on the descriptor (Unix).
            return new FileStream(PathOf("renew.lock"), new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException)
        {
            return null;
        }
    }

    public Bootstrap ReadBootstrap()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(PathOf("bootstrap.json")));
        var root = doc.RootElement;
        return new Bootstrap(root.GetProperty("name").GetString()!, new Uri(root.GetProperty("nodeman_url").GetString()!));
    }

    /// <summary>The MQTT part of the enrollment answer (DESIGN §4.2): broker URL and this node's topics.</summary>
    public MqttSettings ReadMqtt()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(PathOf("bootstrap.json")));
        var root = doc.RootElement;
        string name = root.GetProperty("name").GetString()!;
        if (!root.TryGetProperty("mqtt_broker", out var broker) || !Uri.TryCreate(broker.GetString(), UriKind.Absolute, out var url) || url.Scheme != "mqtts" || url.Host.Length == 0)
        {
            throw new TapirException($"{PathOf("bootstrap.json")}: no mqtts:// mqtt_broker in the enrollment answer.");
        }
        string? Topic(string kind) => root.TryGetProperty("mqtt_topics", out var topics) && topics.ValueKind == JsonValueKind.Object
            && topics.TryGetProperty(kind, out var topic) && topic.ValueKind == JsonValueKind.String ? topic.GetString() : null;
        return new MqttSettings(name, url, Topic("config") ?? $"configuration/{name}/config", Topic("status") ?? $"status/up/{name}/tapir");
    }

    /// <summary>The JWKS this edge trusts for messages from the core (DESIGN §6.4).</summary>
    public JwkSet TrustedJwks()
    {
        byte[] json = File.ReadAllBytes(PathOf("trusted.jwks"));
        return JwkSet.TryParse(json, out var set, out var why) ? set : throw new TapirException($"{PathOf("trusted.jwks")}: not a JWK set ({why}).");
    }

    /// <summary>Writes a new trusted JWKS atomically (DESIGN §6.5; the caller has verified it).</summary>
    public void ReplaceTrustedJwks(JwkSet keys) => AtomicFile.WriteText(PathOf("trusted.jwks"), keys.ToJson() + "\n", AtomicFile.PublicMode);

    /// <summary>Writes a new TLS key and certificate so that the old pair is replaced only when the new one is whole.</summary>
    public void ReplaceTls(ECDsa key, string certificatePem)
    {
        Pem.WriteKey(PathOf("tls.key.next"), key);
        AtomicFile.WriteText(PathOf("tls.crt.next"), certificatePem, AtomicFile.PublicMode);
        FinishInterruptedRenewal();
    }

    /// <summary>Completes a key/certificate swap that a crash interrupted (roll forward).</summary>
    public void FinishInterruptedRenewal() => KeyPairSwap.Finish(PathOf("tls.key"), PathOf("tls.crt"));
}

public sealed record Bootstrap(string Name, Uri NodemanUrl);

/// <summary>Where the agent connects and which topics are its own (from the enrollment answer).</summary>
public sealed record MqttSettings(string Name, Uri Broker, string ConfigTopic, string StatusTopic)
{
    public int Port => Broker.Port > 0 ? Broker.Port : 8883;
}
