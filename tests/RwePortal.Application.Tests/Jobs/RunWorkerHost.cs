using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RwePortal.Application.Analyses;
using RwePortal.Application.Jobs;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Jobs;

/// <summary>
/// A worker process in miniature: the application's services on the test database (the app role), the run queue's
/// listener and worker as hosted services, and the fake pipeline. Start and stop it like a host.
/// </summary>
internal sealed class RunWorkerHost : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private readonly List<IHostedService> _started = [];

    public RunWorkerHost(AppFixture fixture, FakeRunPipeline pipeline, int concurrency = 1, string name = "test-worker", TimeSpan? lease = null, bool worker = true)
    {
        Pipeline = pipeline;
        var services = new ServiceCollection().AddLogging();
        services.AddApplication(fixture.Database.AppConnectionString, fixture.Database.ReaderConnectionString);
        services.AddSingleton<IProtocolRunPipeline>(pipeline);
        services.AddAnalysisRuns(options =>
        {
            options.Enabled = worker;
            options.Concurrency = concurrency;
            options.Name = name;
            options.Lease = lease ?? TimeSpan.FromSeconds(3);
            options.Heartbeat = TimeSpan.FromMilliseconds(150);
            options.Poll = TimeSpan.FromMilliseconds(200);
        });
        _provider = services.BuildServiceProvider();
    }

    public FakeRunPipeline Pipeline { get; }

    public AnalysisRunSignals Signals => _provider.GetRequiredService<AnalysisRunSignals>();

    public IServiceProvider Services => _provider;

    public async Task StartAsync()
    {
        foreach (var service in _provider.GetServices<IHostedService>())
        {
            await service.StartAsync(CancellationToken.None);
            _started.Add(service);
        }
    }

    /// <summary>Stops the host as a shutdown does (the worker puts an unfinished run back in the queue).</summary>
    public async Task StopAsync()
    {
        foreach (var service in _started)
        {
            await service.StopAsync(CancellationToken.None);
        }

        _started.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _provider.DisposeAsync();
    }
}
