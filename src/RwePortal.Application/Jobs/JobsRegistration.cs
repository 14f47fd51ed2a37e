using Microsoft.Extensions.DependencyInjection;

namespace RwePortal.Application.Jobs;

public static class JobsRegistration
{
    /// <summary>
    /// The analysis run queue's pieces in a host: the in-process run signals pages subscribe to, the listener that feeds
    /// them from PostgreSQL, and (when <see cref="AnalysisWorkerOptions.Enabled"/>) the worker. The host registers an
    /// <see cref="Analyses.IProtocolRunPipeline"/>; without one the worker leaves runs queued.
    /// </summary>
    public static IServiceCollection AddAnalysisRuns(this IServiceCollection services, Action<AnalysisWorkerOptions>? configure = null)
    {
        var options = services.AddOptions<AnalysisWorkerOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddSingleton<AnalysisRunSignals>();
        services.AddHostedService<AnalysisRunListener>();
        services.AddHostedService<AnalysisRunWorker>();
        return services;
    }
}
