// Read-only node endpoints (DESIGN §4.4) and the configuration part of the enrollment response:
// public_key (JWK, or SPKI PEM on request), configuration, the trusted JWKS and the root PEM.
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
        return node is null || node.State != "enrolled" ? ApiResult.Refuse(404, "unknown node") : ApiResult.Ok(Json.Object(w => WriteConfiguration(w, core, name)));
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
