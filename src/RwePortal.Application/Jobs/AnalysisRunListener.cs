using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using RwePortal.Application.Audit;

namespace RwePortal.Application.Jobs;

/// <summary>
/// Listens on PostgreSQL's <c>rwe_analysis_runs</c> channel (db/app/analyses.sql notifies every visible change of a run)
/// and raises <see cref="AnalysisRunSignals.Changed"/>, so a page updates without reload even when the worker runs in
/// another process. Reconnects after a lost connection.
/// </summary>
internal sealed partial class AnalysisRunListener(AppSqlConnections connections, AnalysisRunSignals signals, ILogger<AnalysisRunListener> logger)
    : BackgroundService
{
    public const string Channel = "rwe_analysis_runs";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await connections.OpenAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (Guid.TryParse(e.Payload, out var runId))
                    {
                        signals.Raise(runId);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                LogLost(exception);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the run notification channel; listening again")]
    private partial void LogLost(Exception exception);
}
