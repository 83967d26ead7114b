// `tapir core mosquitto-config --out DIR` (DESIGN §6.6): writes everything an external Mosquitto
// 2.0 needs into DIR: mosquitto.conf, the ACL file (Core/Mqtt/MosquittoConfig.cs), the CRL of every
// revoked certificate (PEM, valid CrlLifetime), and copies of the tapir root and of the core's TLS
// server certificate and key. DIR is made 0700 when missing; every file is written atomically with
// mode 0640, so that mosquitto, which reads them as its own user after dropping root, can be given
// them through DIR's group (docs/operations.md). Re-running it refreshes all of them.
using System.CommandLine;
using System.Formats.Asn1;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapir.Core;
using Tapir.Core.Mqtt;
using Tapir.Security.Pki;
using Tapir.Storage;

namespace Tapir.Cli;

public static class MosquittoConfigCommand
{
    /// <summary>How long a written CRL stays valid: mosquitto refuses every client once it has expired.</summary>
    public static readonly TimeSpan CrlLifetime = TimeSpan.FromDays(365);

    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;

    public static Command Build(TextWriter output)
    {
        var state = Settings.StateOption();
        var outDir = new Option<string>("--out") { Description = "Directory to write into (made 0700 if missing).", Required = true };
        var listen = new Option<string?>("--listen") { Description = "host:port of mosquitto's TLS listener (default: core.mqtt_listen)." };
        var data = new Option<string>("--data")
        {
            Description = "mosquitto's persistence_location, writable by the mosquitto user.",
            DefaultValueFactory = _ => "/var/lib/mosquitto/",
        };
        var command = new Command("mosquitto-config", "Write mosquitto.conf, ACL, CRL, CA and server certificate for an external Mosquitto 2.0 broker.")
            { outDir, listen, data, state };
        command.SetAction(parsed =>
        {
            var config = Settings.Load(parsed);
            string stateDir = parsed.GetValue(state) ?? config.Core.StateDir;
            string dir = Path.GetFullPath(parsed.GetValue(outDir)!);
            string hostPort = parsed.GetValue(listen) ?? config.Core.MqttListen;
            int colon = hostPort.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(hostPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            {
                throw new TapirException($"--listen: '{hostPort}' must be host:port with a port from 1 to 65535.") { ExitCode = ExitCodes.Usage };
            }
            var now = AfterPreviousCrl(Path.Combine(dir, MosquittoConfig.CrlFile));
            using var core = CoreState.Load(stateDir);
            var settings = new MosquittoSettings(
                $"{parsed.GetValue(CommandTree.ConfigOption) ?? Config.ConfigLoader.DefaultPath} (with TAPIR_* overrides) and the core state {Path.GetFullPath(stateDir)}",
                now, hostPort[..colon].Trim('[', ']'), port, dir, parsed.GetValue(data)!, config.Core.MqttMaxPacketBytes);
            string acl = MosquittoConfig.Acl(config.Core.MqttAcl, config.Core.CoreRoles, config.Core.Name, settings);
            if (!Directory.Exists(dir))
            {
                Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            using (var db = core.OpenDatabase())
            {
                var revoked = CoreDatabase.Revoked(db);
                long number = CoreDatabase.NextCrlNumber(db, now.ToUnixTimeSeconds());
                byte[] crl = CaProfile.BuildCrl(core.Root, core.RootKey,
                    revoked.Select(r => (Convert.FromHexString(r.Serial), DateTimeOffset.FromUnixTimeSeconds(r.RevokedAt))), number, now, CrlLifetime);
                AtomicFile.WriteText(Path.Combine(dir, MosquittoConfig.CrlFile), PemEncoding.WriteString("X509 CRL", crl) + "\n", FileMode);
                output.WriteLine($"CRL number {number}: {revoked.Count} revoked certificates, valid until {now + CrlLifetime:u}");
            }
            AtomicFile.Write(Path.Combine(dir, MosquittoConfig.CaFile), File.ReadAllBytes(core.PathOf("ca.crt")), FileMode);
            using (var server = core.ServerCertificate())
            {
                AtomicFile.WriteText(Path.Combine(dir, MosquittoConfig.CertificateFile), server.ExportCertificatePem() + "\n", FileMode);
                AtomicFile.Write(Path.Combine(dir, MosquittoConfig.KeyFile), File.ReadAllBytes(core.PathOf("server.key")), FileMode);
                WarnUnlessNamed(server, config.Core.MqttUrl);
            }
            AtomicFile.WriteText(Path.Combine(dir, MosquittoConfig.AclFile), acl, FileMode);
            AtomicFile.WriteText(Path.Combine(dir, MosquittoConfig.ConfFile), MosquittoConfig.Conf(settings), FileMode);
            output.WriteLine($"wrote {MosquittoConfig.ConfFile}, {MosquittoConfig.AclFile}, {MosquittoConfig.CrlFile}, {MosquittoConfig.CaFile}, "
                + $"{MosquittoConfig.CertificateFile} and {MosquittoConfig.KeyFile} in {dir}; listener {hostPort}");
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// Now, in whole seconds, and later than the thisUpdate of the CRL being replaced (waiting for the
    /// next second when it is from this one): mosquitto adds each CRL it reloads to the ones it
    /// holds, OpenSSL prefers the one with the later thisUpdate, and between two from the same second
    /// it has no rule, so the new CRL could be ignored.
    /// </summary>
    private static DateTimeOffset AfterPreviousCrl(string path)
    {
        var now = WholeSeconds(DateTimeOffset.UtcNow);
        if (ThisUpdateOf(path) is DateTimeOffset previous && previous >= now && previous - now < TimeSpan.FromSeconds(2))
        {
            // Sleep counts whole milliseconds on another clock: it can wake just before the second turns
            while ((now = WholeSeconds(DateTimeOffset.UtcNow)) <= previous)
            {
                Thread.Sleep(TimeSpan.FromMilliseconds(Math.Max(1, (previous + TimeSpan.FromSeconds(1) - DateTimeOffset.UtcNow).TotalMilliseconds + 1)));
            }
        }
        return now;
    }

    private static DateTimeOffset WholeSeconds(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    /// <summary>thisUpdate of the PEM CRL at <paramref name="path"/> (RFC 5280 §5.1), or null when there is none that parses.</summary>
    private static DateTimeOffset? ThisUpdateOf(string path)
    {
        try
        {
            string text = File.ReadAllText(path);
            var pem = PemEncoding.Find(text);
            var tbs = new AsnReader(Convert.FromBase64String(text[pem.Base64Data]), AsnEncodingRules.DER).ReadSequence().ReadSequence();
            if (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
            {
                tbs.ReadInteger(); // version
            }
            tbs.ReadSequence(); // signature algorithm
            tbs.ReadSequence(); // issuer
            return tbs.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) ? tbs.ReadUtcTime() : tbs.ReadGeneralizedTime();
        }
        catch (Exception e) when (e is IOException or ArgumentException or FormatException or AsnContentException)
        {
            return null;
        }
    }

    /// <summary>A warning on stderr when the host of core.mqtt_url, which edges connect to, is not a name of the server certificate.</summary>
    private static void WarnUnlessNamed(X509Certificate2 server, Uri mqttUrl)
    {
        var san = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().SingleOrDefault();
        string host = mqttUrl.IdnHost;
        bool named = san is not null && (System.Net.IPAddress.TryParse(host, out var ip)
            ? san.EnumerateIPAddresses().Contains(ip)
            : san.EnumerateDnsNames().Contains(host, StringComparer.OrdinalIgnoreCase));
        if (!named)
        {
            Console.Error.WriteLine($"tapir: warning: core.mqtt_url host '{host}' is not a name in the core's server certificate; edges connecting to it will refuse mosquitto.");
        }
    }
}
