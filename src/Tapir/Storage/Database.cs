// SQLite access (DESIGN §7): WAL, synchronous=FULL, foreign keys on, numbered migrations applied
// at open inside one transaction each, recorded in PRAGMA user_version. SQLite itself is Debian's
// libsqlite3.a linked into the binary (see Tapir.csproj), reached through SQLitePCLRaw's "sqlite3"
// provider, so no shared library is loaded at run time.
using Microsoft.Data.Sqlite;

namespace Tapir.Storage;

public static class Database
{
    private static readonly Lock ProviderLock = new();
    private static bool providerSet;

    /// <summary>Opens (creating if needed) the database and brings its schema up to date.</summary>
    public static SqliteConnection Open(string path, IReadOnlyList<string> migrations)
    {
        EnsureProvider();
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;");
            Migrate(connection, migrations);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public static long SchemaVersion(SqliteConnection connection) => Scalar(connection, "PRAGMA user_version;");

    public static string SqliteVersion()
    {
        EnsureProvider();
        return SQLitePCL.raw.sqlite3_libversion().utf8_to_string();
    }

    private static void Migrate(SqliteConnection connection, IReadOnlyList<string> migrations)
    {
        long current = SchemaVersion(connection);
        if (current > migrations.Count)
        {
            throw new InvalidDataException($"database schema version {current} is newer than this tapir knows ({migrations.Count}).");
        }
        for (int i = (int)current; i < migrations.Count; i++)
        {
            using var transaction = connection.BeginTransaction();
            Execute(connection, migrations[i], transaction);
            // PRAGMA takes no parameters; the value is our own loop counter.
            Execute(connection, $"PRAGMA user_version = {i + 1};", transaction);
            transaction.Commit();
        }
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void EnsureProvider()
    {
        lock (ProviderLock)
        {
            if (!providerSet)
            {
                SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_sqlite3());
                providerSet = true;
            }
        }
    }
}
