// What the enrollment, renewal and directory handlers share: the core state and configuration,
// the one database connection with its writer lock (closed by `core serve` at its stop), the failure limiter, the clock.
using Microsoft.Data.Sqlite;
using Tapir.Config;

namespace Tapir.Core.Enrollment;

public sealed class CoreContext(CoreState state, CoreConfig config, SqliteConnection db, TimeProvider clock)
{
    public CoreState State { get; } = state;

    public CoreConfig Config { get; } = config;

    public TimeProvider Clock { get; } = clock;

    public FailureLimiter Failures { get; } = new();

    public Ca.PeerValidator Validator { get; } = new(state.Root, clock);

    /// <summary>The one writer of aggregate rows (group commit), started at first use.</summary>
    public Aggregates.AggregateCommitter Aggregates => LazyInitializer.EnsureInitialized(ref aggregates, () => new Aggregates.AggregateCommitter(this));

    private Aggregates.AggregateCommitter? aggregates;

    /// <summary>Reserved names (DESIGN §2), asked again at enrollment and renewal: the configuration may have changed since `node add`.</summary>
    public Nodes.NodePolicy Names { get; } = Nodes.NodePolicy.For(state, config);

    /// <summary>When the TLS server certificate `core serve` presents expires (for /healthz and the expiry gauge).</summary>
    public DateTime ServerCertificateNotAfter { get; set; } = DateTime.MaxValue;

    /// <summary>Whether the embedded MQTT broker is accepting connections (for /healthz).</summary>
    public bool BrokerListening { get; set; }

    /// <summary>External broker mode only (null otherwise): whether the core's client connection to it is up (for /healthz).</summary>
    public bool? BrokerConnected { get; set; }

    /// <summary>Runs a database action under the single-writer lock (SqliteConnection is not thread-safe).</summary>
    public T Db<T>(Func<SqliteConnection, T> action)
    {
        lock (db)
        {
            return action(db);
        }
    }

    /// <summary>Closes the database once the handler holding the lock (if any) is done; later use fails.</summary>
    public void CloseDatabase()
    {
        lock (db)
        {
            db.Dispose();
        }
    }

    public string MqttTopic(string kind, string name) => kind switch
    {
        "config" => Nodes.NodeConfigurations.Topic(name),
        "observations" => "observations/down/tapir-pop",
        _ => $"status/up/{name}/tapir",
    };
}
