// The signal owner's rules without sending real signals (the real binary is signalled in
// LifecycleTests): the first stop signal cancels Stopping and never exits; the second exits with
// status 1; SIGHUP neither stops nor exits.
using System.Runtime.InteropServices;
using Tapir.Cli;

namespace Tapir.Tests.Cli;

public sealed class ProcessSignalsTests
{
    [Theory]
    [InlineData(PosixSignal.SIGTERM, PosixSignal.SIGTERM)]
    [InlineData(PosixSignal.SIGINT, PosixSignal.SIGTERM)]
    [InlineData(PosixSignal.SIGTERM, PosixSignal.SIGINT)]
    public void FirstStopSignalCancelsSecondExitsWithOne(PosixSignal first, PosixSignal second)
    {
        var exits = new List<int>();
        var signals = new ProcessSignals(exits.Add);
        signals.Handle(first);
        Assert.True(SpinWait.SpinUntil(() => signals.Stopping.IsCancellationRequested, 2_000));
        Assert.Empty(exits);
        signals.Handle(second);
        Assert.Equal([1], exits);
    }

    [Fact]
    public void SighupIsNotAStop()
    {
        var exits = new List<int>();
        var signals = new ProcessSignals(exits.Add);
        signals.Handle(PosixSignal.SIGHUP);
        signals.Handle(PosixSignal.SIGHUP);
        Thread.Sleep(100);
        Assert.False(signals.Stopping.IsCancellationRequested);
        Assert.Empty(exits);
        signals.Handle(PosixSignal.SIGTERM);
        Assert.True(SpinWait.SpinUntil(() => signals.Stopping.IsCancellationRequested, 2_000));
        Assert.Empty(exits);
    }
}
