// What `core serve` runs for MQTT (DESIGN §6.1, §6.6): the embedded broker (MqttBroker) or the
// client connection to an external broker (ExternalBroker), chosen by core.mqtt_mode.
namespace Tapir.Core.Mqtt;

public interface ICoreBroker : IAsyncDisposable
{
    /// <summary>What the READY notification's status says of MQTT, after "listening on … (API)".</summary>
    string ReadyText { get; }

    Task StartAsync();

    /// <summary>Lets messages in flight commit, stops publishing, closes the connections.</summary>
    Task StopAsync();

    /// <summary>Applies removals and revocations (called after each refresh of the live identities).</summary>
    Task ReapAsync();
}
