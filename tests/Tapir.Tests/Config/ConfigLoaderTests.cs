// tapir.toml parsing: defaults, a full good file, environment overrides, and every kind of bad
// input refused with a message naming the key and the line.
using Tapir.Cli;
using Tapir.Config;

namespace Tapir.Tests.Config;

public sealed class ConfigLoaderTests
{
    private static readonly Dictionary<string, string> NoEnvironment = new();

    private static TapirConfig Parse(string text, Dictionary<string, string>? env = null) =>
        ConfigLoader.Parse(text, "t.toml", env ?? NoEnvironment);

    private static string Refused(string text, Dictionary<string, string>? env = null) =>
        Assert.Throws<TapirException>(() => Parse(text, env)).Message;

    [Fact]
    public void EmptyFileGivesDefaultsForLocalUse()
    {
        var config = Parse("");
        Assert.Equal("/var/lib/tapir/core", config.Core.StateDir);
        Assert.Equal("/var/lib/tapir/edge", config.Edge.StateDir);
        Assert.Equal(new Uri("https://127.0.0.1:8443/"), config.Core.PublicUrl);
        Assert.Equal(new Uri("mqtts://127.0.0.1:8883"), config.Core.MqttUrl);
        Assert.Equal(TimeSpan.FromDays(30), config.Core.CertificateLifetime);
        Assert.Equal(["histogram", "vector", "test"], config.Core.AggregateTypes);
        Assert.Equal(256L * 1024 * 1024, config.Core.AggregateMaxBytes);
    }

    [Fact]
    public void GoodFileSetsEveryKind()
    {
        var config = Parse("""
            # a comment
            [core]
            state_dir = "/srv/tapir"
            name = "core.example.net"
            public_url = "https://core.example.net:8443/"
            certificate_lifetime = "7d"
            allow_p384_csr = true
            aggregate_max_bytes = 1024
            aggregate_types = ["histogram"]

            [log]
            level = "debug"
            """);
        Assert.Equal("/srv/tapir", config.Core.StateDir);
        Assert.Equal("core.example.net", config.Core.Name);
        Assert.Equal(TimeSpan.FromDays(7), config.Core.CertificateLifetime);
        Assert.True(config.Core.AllowP384Csr);
        Assert.Equal(1024, config.Core.AggregateMaxBytes);
        Assert.Equal(["histogram"], config.Core.AggregateTypes);
        Assert.Equal("debug", config.Log.Level);
    }

    [Fact]
    public void ExampleFileDocumentsEveryKeyWithItsDefault()
    {
        string example = File.ReadAllText(Path.Combine(Repo.Root, "tapir.toml.example"));
        // Uncommenting every "# key = value" line must give exactly the defaults.
        string uncommented = string.Join('\n', example.Split('\n').Select(l => l.StartsWith("# ", StringComparison.Ordinal) && l.Contains(" = ", StringComparison.Ordinal) ? l[2..] : l));
        var values = ConfigLoader.ParseValues(uncommented, "example", NoEnvironment);
        foreach (var key in ConfigSchema.Keys)
        {
            Assert.Contains($"# {key.Name} = {ConfigSchema.Format(key.Default)}\n", example);
            Assert.Equal(ConfigSchema.Format(key.Default), ConfigSchema.Format(values[key.Path]));
        }
    }

    [Fact]
    public void EnvironmentOverridesFile()
    {
        var config = Parse("[core]\nstate_dir = \"/a\"\n", new()
        {
            ["TAPIR_CORE__STATE_DIR"] = "/b",
            ["TAPIR_CORE__AGGREGATE_MAX_BYTES"] = "5",
            ["TAPIR_CORE__ALLOW_P384_CSR"] = "true",
            ["TAPIR_CORE__AGGREGATE_TYPES"] = "x, y",
            ["TAPIR_EDGE__STATE_DIR"] = "/e",
            ["TAPIR_CORE__MQTT_MODE"] = "external",
            ["HOME"] = "/root",
            ["TAPIR_BIN"] = "not a config key: no double underscore",
        });
        Assert.Equal("/b", config.Core.StateDir);
        Assert.Equal(5, config.Core.AggregateMaxBytes);
        Assert.True(config.Core.AllowP384Csr);
        Assert.Equal(["x", "y"], config.Core.AggregateTypes);
        Assert.Equal("/e", config.Edge.StateDir);
        Assert.Equal(MqttModes.External, config.Core.MqttMode);
    }

    [Theory]
    [InlineData("[core]\nstat_dir = \"/x\"\n", "t.toml:2: unknown key 'core.stat_dir'")]
    [InlineData("[core]\nmqtt_mode = \"mosquitto\"\n", "t.toml:2: core.mqtt_mode: must be one of embedded, external")]
    [InlineData("[cores]\n", "t.toml:1: unknown section or key 'cores'")]
    [InlineData("name = \"x\"\n", "t.toml:1: unknown section or key 'name'")]
    [InlineData("[core]\nstate_dir = 5\n", "t.toml:2: core.state_dir: must be a string, not integer")]
    [InlineData("[core]\naggregate_max_bytes = \"5\"\n", "t.toml:2: core.aggregate_max_bytes: must be an integer")]
    [InlineData("[core]\nallow_p384_csr = 1\n", "t.toml:2: core.allow_p384_csr: must be true or false")]
    [InlineData("[core]\naggregate_types = \"histogram\"\n", "t.toml:2: core.aggregate_types: must be an array of strings")]
    [InlineData("[core]\naggregate_types = [1]\n", "t.toml:2: core.aggregate_types: must be an array of strings")]
    [InlineData("[core]\naggregate_types = []\n", "t.toml:2: core.aggregate_types: must list at least one value")]
    [InlineData("[core]\ncertificate_lifetime = \"30 days\"\n", "t.toml:2: core.certificate_lifetime: '30 days' is not a duration")]
    [InlineData("[core]\ncertificate_lifetime = \"398d\"\n", "t.toml:2: core.certificate_lifetime: must be between 1h and 397d")]
    [InlineData("[core]\ncertificate_lifetime = \"59m\"\n", "t.toml:2: core.certificate_lifetime: must be between 1h and 397d")]
    [InlineData("[core]\nname = \"Core.Example.net\"\n", "t.toml:2: core.name: must be a lower-case DNS name")]
    [InlineData("[core]\nlisten = \"0.0.0.0\"\n", "t.toml:2: core.listen: must be host:port")]
    [InlineData("[core]\npublic_url = \"http://x/\"\n", "t.toml:2: core.public_url: must be an absolute https:// URL")]
    [InlineData("[core]\naggregate_max_bytes = 0\n", "t.toml:2: core.aggregate_max_bytes: must be positive")]
    [InlineData("[log]\nlevel = \"loud\"\n", "t.toml:2: log.level: must be one of debug, info, warning, error")]
    [InlineData("[core]\nstate_dir = \"/a\"\nstate_dir = \"/b\"\n", "t.toml:3: key 'core.state_dir' is set twice")]
    [InlineData("[core]\n[edge]\n[core]\n", "t.toml:3: section [core] is defined twice")]
    [InlineData("[core]\nstate_dir = {a = 1}\n", "t.toml:2: core.state_dir: must be a string, not starttable")]
    [InlineData("core = 1\n", "t.toml:1: 'core' must be a table")]
    [InlineData("[core\n", "t.toml: invalid TOML")]
    [InlineData("[core]\nstate_dir = \"unterminated\n", "t.toml: invalid TOML")]
    public void BadFilesAreRefusedNamingKeyAndLine(string text, string expected)
    {
        Assert.Contains(expected, Refused(text));
    }

    [Theory]
    [InlineData("TAPIR_CORE__NOPE", "x", "environment variable TAPIR_CORE__NOPE names no configuration key")]
    [InlineData("TAPIR_CORE__AGGREGATE_MAX_BYTES", "lots", "environment TAPIR_CORE__AGGREGATE_MAX_BYTES: 'lots' is not an integer")]
    [InlineData("TAPIR_CORE__ALLOW_P384_CSR", "yes", "environment TAPIR_CORE__ALLOW_P384_CSR: 'yes' is not true or false")]
    [InlineData("TAPIR_CORE__CERTIFICATE_LIFETIME", "1000d", "environment TAPIR_CORE__CERTIFICATE_LIFETIME: must be between")]
    public void BadEnvironmentIsRefused(string name, string value, string expected)
    {
        Assert.Contains(expected, Refused("", new() { [name] = value }));
    }

    [Fact]
    public void MissingExplicitFileIsAnError()
    {
        var e = Assert.Throws<TapirException>(() => ConfigLoader.Load("/nonexistent/tapir.toml", NoEnvironment));
        Assert.Contains("/nonexistent/tapir.toml does not exist", e.Message);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("15m", 900)]
    [InlineData("25h", 90000)]
    [InlineData("30d", 2592000)]
    public void DurationsParseAndFormat(string text, int seconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
        Assert.Equal(text, Durations.Format(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("d")]
    [InlineData("-1d")]
    [InlineData("+1d")]
    [InlineData("1.5h")]
    [InlineData("1w")]
    [InlineData("1h30m")]
    [InlineData(" 1h")]
    public void BadDurationsAreRefused(string text)
    {
        Assert.False(Durations.TryParse(text, out _));
    }
}
