// Read-only node endpoints (DESIGN §4.4) and the configuration part of the enrollment response:
// public_key (JWK, or SPKI PEM on request), configuration, the trusted JWKS and the root PEM.
// GET configuration keeps nodeman's members (the §4.2 answer minus certificates; nodeman's own
// NodeConfiguration has no signed per-node document, and its clients ignore members they do not
// know) and adds, once `tapir core node configure` has stored one, "configuration": the very
// flattened JWS (a JSON object) queued retained on configuration/<name>/config. Verify it against
// trusted_jwks; its payload is the configured JSON.
using System.Text.Json;
using Tapir.Security.Jose;
using Tapir.Security.Pki;
using Tapir.Storage;

namespace Tapir.Core.Enrollment;

public static class NodeDirectory
{
    public static ApiResult PublicKey(CoreContext core, string name, bool pem)
    {
        var node = NodeName.IsValid(name) ? core.Db(db => CoreDatabase.GetNode(db, name)) : null;
        if (node is null || node.State != "enrolled" || node.DataKey is null || !JwkParser.TryParse(System.Text.Encoding.UTF8.GetBytes(node.DataKey), out var key, out _))
        {
            return ApiResult.Refuse(404, "unknown node");
        }
        return pem ? new ApiResult(200, JwkPem.ExportPublic(key), "application/x-pem-file") : ApiResult.Ok(key.ToJson());
    }

    public static ApiResult Configuration(CoreContext core, string name)
    {
        var node = NodeName.IsValid(name) ? core.Db(db => CoreDatabase.GetNode(db, name)) : null;
        if (node is null || node.State != "enrolled")
        {
            return ApiResult.Refuse(404, "unknown node");
        }
        var signed = core.Db(db => NodeConfigurationStore.Get(db, name));
        return ApiResult.Ok(Json.Object(w =>
        {
            WriteConfiguration(w, core, name);
            if (signed is not null)
            {
                Json.WriteRaw(w, "configuration", System.Text.Encoding.UTF8.GetString(signed.Message));
            }
        }));
    }

    public static ApiResult Jwks(CoreContext core) => ApiResult.Ok(core.State.TrustedJwks.ToJson());

    public static ApiResult Ca(CoreContext core) => new(200, core.State.Root.ExportCertificatePem() + "\n", "application/x-pem-file");

    /// <summary>The members of DESIGN §4.2's response that are not certificates.</summary>
    public static void WriteConfiguration(Utf8JsonWriter w, CoreContext core, string name)
    {
        w.WriteString("mqtt_broker", core.Config.MqttUrl.OriginalString);
        w.WriteStartObject("mqtt_topics");
        foreach (var kind in new[] { "config", "observations", "status" })
        {
            w.WriteString(kind, core.MqttTopic(kind, name));
        }
        w.WriteEndObject();
        Json.WriteRaw(w, "trusted_jwks", core.State.TrustedJwks.ToJson());
        w.WriteString("nodeman_url", core.Config.PublicUrl.OriginalString);
        w.WriteString("aggrec_url", core.Config.PublicUrl.OriginalString);
    }
}
