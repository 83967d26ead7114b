// SQLite through the linked library: WAL + synchronous=FULL, numbered migrations applied once.
using Tapir.Storage;

namespace Tapir.Tests.Storage;

public sealed class DatabaseTests
{
    private static readonly string[] Migrations =
    [
        "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT NOT NULL);",
        "ALTER TABLE a ADD COLUMN w INTEGER;",
    ];

    [Fact]
    public void MigrationsApplyOnceAndPragmasHold()
    {
        using var dir = new TempDir();
        string path = dir.File("tapir.db");
        using (var db = Database.Open(path, Migrations))
        {
            Assert.Equal(2, Database.SchemaVersion(db));
            using var cmd = db.CreateCommand();
            cmd.CommandText = "INSERT INTO a (v, w) VALUES ('x', 1); PRAGMA journal_mode;";
            Assert.Equal("wal", cmd.ExecuteScalar());
            cmd.CommandText = "PRAGMA synchronous;";
            Assert.Equal(2L, cmd.ExecuteScalar()); // 2 = FULL
        }
        using (var db = Database.Open(path, Migrations))
        {
            Assert.Equal(2, Database.SchemaVersion(db));
            using var cmd = db.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM a;";
            Assert.Equal(1L, cmd.ExecuteScalar());
        }
    }

    [Fact]
    public void NewerSchemaThanKnownIsRefused()
    {
        using var dir = new TempDir();
        string path = dir.File("tapir.db");
        Database.Open(path, Migrations).Dispose();
        Assert.Throws<InvalidDataException>(() => Database.Open(path, Migrations[..1]));
    }
}
