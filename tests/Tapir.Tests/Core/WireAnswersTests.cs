// The one table from a Rejection to its wire answer (issue 9): every value but None has exactly
// one answer, its status one of DESIGN §8.6's uniform set, and refusals carry the detail for the log.
using Tapir.Core.Api;
using Tapir.Security;

namespace Tapir.Tests.Core;

public sealed class WireAnswersTests
{
    [Fact]
    public void EveryRejectionHasOneUniformAnswer()
    {
        foreach (var why in Enum.GetValues<Rejection>().Where(r => r != Rejection.None))
        {
            var (status, reason) = WireAnswers.Answer(why);
            Assert.Contains(status, new[] { 400, 401, 403, 413 });
            Assert.False(string.IsNullOrWhiteSpace(reason), why.ToString());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => WireAnswers.Answer(Rejection.None));
    }

    [Fact]
    public void ARefusalSendsTheShortReasonAndLogsTheDetail()
    {
        var refusal = WireAnswers.Refuse(Rejection.NameMismatch, "x509_csr", "subject CN=other");
        Assert.Equal(403, refusal.Status);
        Assert.Equal("{\"error\":\"x509_csr: must be the node's name\"}", refusal.Text);
        Assert.Equal("x509_csr: NameMismatch, subject CN=other", refusal.Detail);
        var stranger = WireAnswers.Unauthenticated(WireAnswers.RenewalRefused, "unknown node");
        Assert.Equal((401, "{\"error\":\"renewal refused\"}", "unknown node"), (stranger.Status, stranger.Text, stranger.Detail));
    }
}
