// GET /api/v1/aggregates/{id} and /api/v1/aggregates/{id}/payload (DESIGN §5.3): for core roles only
// (nodes named in core.core_roles; an edge gets 403). The metadata uses aggrec's names; the payload
// is streamed from its file, or sent from the database, with its original Content-Type. The id is
// looked up in the database, never used as a file name.
using Tapir.Core.Enrollment;
using Tapir.Storage;

namespace Tapir.Core.Aggregates;

public static class AggregateReader
{
    public static ApiResult Metadata(CoreContext core, string id, string peer)
    {
        if (Find(core, id, peer, out var refusal) is not AggregateRecord a)
        {
            return refusal!;
        }
        return ApiResult.Ok(AggregateMetadata.Json([a], array: false));
    }

    public static ApiResult Payload(CoreContext core, string id, string peer)
    {
        if (Find(core, id, peer, out var refusal) is not AggregateRecord a)
        {
            return refusal!;
        }
        if (a.PayloadPath is null)
        {
            return new ApiResult(200, core.Db(db => AggregateDatabase.InlinePayload(db, a.Id)) ?? [], a.ContentType);
        }
        return new ApiResult(200, [], a.ContentType) { Content = File.OpenRead(core.State.PathOf(a.PayloadPath)) };
    }

    private static AggregateRecord? Find(CoreContext core, string id, string peer, out ApiResult? refusal)
    {
        refusal = null;
        if (!core.Config.CoreRoles.Contains(peer, StringComparer.Ordinal))
        {
            refusal = ApiResult.Refuse(403, "only core roles read aggregates", $"{peer} is not in core.core_roles");
            return null;
        }
        var a = core.Db(db => AggregateDatabase.Get(db, id));
        if (a is null)
        {
            refusal = ApiResult.Refuse(404, "no such aggregate");
        }
        return a;
    }
}
