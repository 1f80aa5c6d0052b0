using Microsoft.Extensions.Hosting;

namespace Firestarter.IntegrationTests.Infrastructure;

/// <summary>Holds the host's shutdown open (after draining began, before the server stops) until released.</summary>
public sealed class ShutdownGate : IHostedService
{
    public TaskCompletionSource Stopping { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Stopping.TrySetResult();
        await Release.Task;
    }
}
