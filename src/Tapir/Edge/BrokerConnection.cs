// MQTT over mTLS from an edge to the broker of its enrollment answer (DESIGN §2, §6.1): MQTT 5,
// TLS 1.2/1.3, the enrolled certificate presented, and the broker accepted only with a serverAuth
// certificate from the pinned tapir root naming the host dialled (the one chain validator,
// Pki/ChainValidator.cs), whatever the system trust store holds. Any broker that speaks MQTT 5
// over mTLS will do: the embedded one or an external Mosquitto (DESIGN §6.6).
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Formatter;
using Tapir.Security;
using Tapir.Security.Pki;

namespace Tapir.Edge;

public sealed class BrokerConnection(MqttSettings settings, X509Certificate2 root)
{
    /// <summary>Why the last broker certificate was refused (None when none was).</summary>
    public Rejection LastRefusal { get; private set; }

    public MqttSettings Mqtt => settings;

    /// <summary>Options for one connection attempt with the identity on disk now.</summary>
    public MqttClientOptions Options(X509Certificate2 identity, string clientId, bool cleanStart, TimeSpan sessionExpiry) =>
        new MqttClientOptionsBuilder()
            .WithTcpServer(settings.Broker.IdnHost, settings.Port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId(clientId)
            .WithCleanStart(cleanStart)
            .WithSessionExpiryInterval((uint)sessionExpiry.TotalSeconds)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithTlsOptions(tls => tls
                .UseTls()
                .WithSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13)
                .WithTargetHost(settings.Broker.IdnHost)
                .WithRevocationMode(X509RevocationMode.NoCheck)
                .WithClientCertificates([identity])
                .WithCertificateValidationHandler(e => AcceptBroker(e.Certificate)))
            .Build();

    private bool AcceptBroker(X509Certificate? certificate)
    {
        if (certificate is null)
        {
            LastRefusal = Rejection.ComponentMissing;
            return false;
        }
        using var server = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        bool ok = ChainValidator.TryValidate(server, CertificatePurpose.Server, DateTimeOffset.UtcNow, root, settings.Broker.IdnHost, out _, out var why);
        LastRefusal = ok ? Rejection.None : why;
        return ok;
    }

    /// <summary>The innermost message of a failed attempt, with the broker refusal when that was the cause.</summary>
    public string Describe(Exception e)
    {
        var messages = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            messages.Add(x.Message.TrimEnd('.'));
        }
        string text = string.Join(": ", messages.Distinct());
        return LastRefusal == Rejection.None ? text
            : $"{text} (the broker's TLS certificate is not a tapir certificate for {settings.Broker.IdnHost}: {LastRefusal})";
    }
}
