// `tapir core serve` (DESIGN §1): the HTTPS API and the embedded MQTT broker in one process under
// one stop token (or, with core.mqtt_mode = "external", the core's client connection to an external
// broker, DESIGN §6.6). Every half second the live identities and the core data keys are re-read from
// the database (PeerValidator, `core key rotate`) and the broker applies removals and revocations
// to its sessions, so a removal made by another process takes effect within 2 seconds (DESIGN
// §8.4). systemd hears READY once both listen (in external mode: once the API listens; the broker is dialled in the background) and STOPPING when the stop begins; at the stop both
// stop accepting and drain together; the caller then closes the database.
using Tapir.Core.Api;
using Tapir.Core.Enrollment;
using Tapir.Core.Mqtt;
using Tapir.Logging;
using Tapir.Storage;

namespace Tapir.Core;

public static class CoreServer
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMilliseconds(500);

    public static async Task RunAsync(CoreContext core, CancellationToken stop)
    {
        core.Validator.Refresh(() => core.Db(CoreDatabase.ValidSerials));
        await using ICoreBroker broker = core.Config.MqttMode == Config.MqttModes.External ? new ExternalBroker(core) : new MqttBroker(core);
        // The broker first: once the API answers, the embedded broker listens too (tests and scripts wait for the API port);
        // an external broker is dialled in the background and may come later.
        await broker.StartAsync().ConfigureAwait(false);
        core.BrokerListening = broker is MqttBroker;
        await using var api = await ApiServer.StartAsync(core, stop).ConfigureAwait(false);
        if (api is null)
        {
            await broker.StopAsync().ConfigureAwait(false);
            return;
        }
        SystemdNotify.Ready($"listening on {core.Config.Listen} (API){broker.ReadyText}");
        await RefreshUntil(core, broker, stop).ConfigureAwait(false);
        SystemdNotify.Stopping();
        core.BrokerListening = false;
        await Task.WhenAll(api.DrainAsync(), broker.StopAsync()).ConfigureAwait(false);
    }

    private static async Task RefreshUntil(CoreContext core, ICoreBroker broker, CancellationToken stop)
    {
        string? keyError = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(RefreshInterval, stop).ConfigureAwait(false);
                core.Validator.Refresh(() => core.Db(CoreDatabase.ValidSerials));
                keyError = ApiServer.RefreshKeys(core, keyError);
                try
                {
                    await broker.ReapAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    Log.Error($"MQTT session check: {e.GetType().Name}: {e.Message}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
