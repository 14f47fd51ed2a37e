using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using RwePortal.Application.Analyses;
using RwePortal.Application.Audit;
using RwePortal.Application.Data;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Application.Jobs;

/// <summary>
/// Runs queued analysis runs (decision 1040): claims the oldest through <c>app.claim_analysis_run</c> (FOR UPDATE SKIP
/// LOCKED, the one cross-tenant step), then works as the run's requester in the run's tenant (<see cref="CurrentUser.Bind"/>,
/// row-level security on), hands the approved protocol to <see cref="IProtocolRunPipeline"/>, writes each progress line
/// and a heartbeat that renews its lease, and stores the result or the failure. A cancel request reaches the pipeline
/// through its token at the next heartbeat or progress line. A worker that stops gracefully puts its run back in the
/// queue; one that dies leaves a lease that expires, and the next worker takes the run as its next attempt.
/// </summary>
internal sealed partial class AnalysisRunWorker(
    IServiceScopeFactory scopes,
    AppSqlConnections connections,
    AnalysisRunSignals signals,
    IOptions<AnalysisWorkerOptions> options,
    ILogger<AnalysisRunWorker> logger) : BackgroundService
{
    private readonly AnalysisWorkerOptions _options = options.Value;

    internal sealed record Claim(Guid RunId, Guid TenantId, Guid RequestedBy, int Attempt);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled || _options.Concurrency < 1)
        {
            return;
        }

        using var wake = new SemaphoreSlim(0);
        void OnChanged(Guid _)
        {
            if (wake.CurrentCount == 0)
            {
                wake.Release();
            }
        }

        signals.Changed += OnChanged;
        try
        {
            var instance = Guid.NewGuid().ToString("N")[..8];
            await Task.WhenAll(Enumerable.Range(0, _options.Concurrency)
                .Select(i => Task.Run(() => LoopAsync($"{_options.Name}:{instance}:{i}", wake, stoppingToken), CancellationToken.None)));
        }
        finally
        {
            signals.Changed -= OnChanged;
        }
    }

    private async Task LoopAsync(string worker, SemaphoreSlim wake, CancellationToken stoppingToken)
    {
        var warned = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            Claim? claim = null;
            try
            {
                if (HasPipeline())
                {
                    claim = await ClaimAsync(worker, stoppingToken);
                }
                else if (!warned)
                {
                    LogNoPipeline();
                    warned = true;
                }

                if (claim is not null)
                {
                    await RunAsync(claim, worker, stoppingToken);
                    continue;
                }

                await wake.WaitAsync(_options.Poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                LogDatabaseError(exception);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested && exception is not OutOfMemoryException)
            {
                // An exception escaping a BackgroundService stops the whole host (the portal): log it and go on. A run
                // left running by it is taken again when its lease expires (decision 1041).
                LogUnexpected(exception);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private bool HasPipeline()
    {
        using var scope = scopes.CreateScope();
        return scope.ServiceProvider.GetService<IProtocolRunPipeline>() is not null;
    }

    internal async Task<Claim?> ClaimAsync(string worker, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<Claim>(new CommandDefinition(
            """
            SELECT run_id AS RunId, tenant_id AS TenantId, requested_by AS RequestedBy, attempt AS Attempt
            FROM app.claim_analysis_run(@worker, @lease, @maxAttempts)
            """,
            new { worker, lease = (int)Math.Ceiling(_options.Lease.TotalSeconds), maxAttempts = _options.MaxAttempts },
            commandTimeout: AnalysisRunStore.CommandTimeoutSeconds,
            cancellationToken: cancellationToken));
    }

    private async Task RunAsync(Claim claim, string worker, CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        using var lease = new RunLease(this, services, claim, worker);
        LogClaimed(claim.RunId, claim.Attempt, worker);

        var user = await RequesterAsync(services, claim, stoppingToken);
        if (user is null || !user.Has(Permission.RunAnalyses))
        {
            await lease.FinishAsync(AnalysisRunStatus.Failed, "Run.RequesterNotPermitted",
                "The user who started the run no longer may run analyses in this tenant.", null, CancellationToken.None);
            return;
        }

        // From here on the scope works for the requester in the run's tenant, as the request that queued it did.
        services.GetRequiredService<CurrentUser>().Bind(user);
        var input = await InputAsync(services, claim, stoppingToken);
        if (input is null)
        {
            await lease.FinishAsync(AnalysisRunStatus.Failed, "Run.ProtocolInvalid",
                "The approved protocol version could not be read as the run's protocol.", null, CancellationToken.None);
            return;
        }

        using var run = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var heartbeat = lease.KeepAsync(run);
        string outcome;
        try
        {
            var output = await services.GetRequiredService<IProtocolRunPipeline>().RunAsync(input, lease, run.Token);
            await lease.StopAsync(heartbeat);
            outcome = await lease.SucceedAsync(output, CancellationToken.None) ? AnalysisRunStatus.Succeeded : "LeaseLost";
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            await lease.StopAsync(heartbeat);
            if (lease.Lost)
            {
                outcome = "LeaseLost";
            }
            else if (lease.CancelRequested)
            {
                await lease.FinishAsync(AnalysisRunStatus.Cancelled, null, null, "Cancelled", CancellationToken.None);
                outcome = AnalysisRunStatus.Cancelled;
            }
            else
            {
                await lease.RequeueAsync(CancellationToken.None);
                outcome = "Requeued";
            }
        }
        catch (ProtocolRunFailedException failure)
        {
            await lease.StopAsync(heartbeat);
            await lease.FinishAsync(AnalysisRunStatus.Failed, failure.Code, failure.Message, null, CancellationToken.None);
            outcome = failure.Code;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            await lease.StopAsync(heartbeat);
            LogRunError(claim.RunId, exception);
            await lease.FinishAsync(AnalysisRunStatus.Failed, "Run.Error",
                "The run stopped on an unexpected error; the portal's log has the details.", null, CancellationToken.None);
            outcome = "Run.Error";
        }

        LogFinished(claim.RunId, outcome);
        if (outcome != "LeaseLost")
        {
            await services.GetRequiredService<IAuditTrail>().RecordAsync(
                new AuditRecord(AuditEventTypes.Command, $"AnalysisRun: run {claim.RunId}", outcome == AnalysisRunStatus.Succeeded ? AuditOutcomes.Success : outcome,
                    new Dictionary<string, object?> { ["attempt"] = claim.Attempt, ["worker"] = worker }),
                CancellationToken.None);
        }
    }

    /// <summary>The requester as a member of the run's tenant now (roles may have changed since the run was queued).</summary>
    private static async Task<UserContext?> RequesterAsync(IServiceProvider services, Claim claim, CancellationToken cancellationToken)
    {
        await using var db = await ContextAsync(services, claim.TenantId, cancellationToken);
        var account = await db.Users.AsNoTracking().Where(u => u.Id == claim.RequestedBy)
            .Select(u => new { u.Email, u.DisplayName, u.IsDisabled })
            .SingleOrDefaultAsync(cancellationToken);
        var tenant = await db.Tenants.AsNoTracking().Where(t => t.Id == claim.TenantId)
            .Select(t => new { t.Name, t.IsActive })
            .SingleOrDefaultAsync(cancellationToken);
        if (account is null || account.IsDisabled || tenant is null || !tenant.IsActive)
        {
            return null;
        }

        var roles = await db.TenantMemberships.AsNoTracking().Where(m => m.UserId == claim.RequestedBy)
            .Select(m => m.Role).Distinct().ToListAsync(cancellationToken);
        return new UserContext(claim.RequestedBy, account.Email ?? "", account.DisplayName, false, claim.TenantId, tenant.Name, roles);
    }

    private static async Task<ProtocolRunInput?> InputAsync(IServiceProvider services, Claim claim, CancellationToken cancellationToken)
    {
        await using var db = await services.GetRequiredService<TenantDbContextFactory>().CreateAsync(cancellationToken);
        var run = await AnalysisRunStore.FindAsync(db, claim.RunId, cancellationToken, withResult: false);
        if (run is null)
        {
            return null;
        }

        var version = await db.ProtocolVersions.AsNoTracking().Where(v => v.Id == run.ProtocolVersionId)
            .Select(v => new { v.Document, v.ContentHash })
            .SingleOrDefaultAsync(cancellationToken);
        var parsed = version is null || version.ContentHash != run.ProtocolHash ? null : ProtocolParser.Parse(version.Document);
        if (parsed is not { IsValid: true, Protocol: { } protocol })
        {
            return null;
        }

        var policy = await SmallCellPolicies.ForAsync(db, cancellationToken);
        return new ProtocolRunInput(protocol, run.ProtocolVersion, run.ProtocolHash, run.Source, run.Purpose, run.Seed, policy);
    }

    private static async Task<AppDbContext> ContextAsync(IServiceProvider services, Guid tenantId, CancellationToken cancellationToken)
    {
        var context = await services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync(cancellationToken);
        context.BindTo(TenantScope.For(tenantId));
        return context;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No analysis pipeline is registered: queued runs wait for a worker that has one")]
    private partial void LogNoPipeline();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The analysis worker could not reach the database; trying again")]
    private partial void LogDatabaseError(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "The analysis worker met an unexpected error; it goes on")]
    private partial void LogUnexpected(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Analysis run {RunId} attempt {Attempt} claimed by {Worker}")]
    private partial void LogClaimed(Guid runId, int attempt, string worker);

    [LoggerMessage(Level = LogLevel.Information, Message = "Analysis run {RunId} ended: {Outcome}")]
    private partial void LogFinished(Guid runId, string outcome);

    [LoggerMessage(Level = LogLevel.Error, Message = "Analysis run {RunId} failed with an unexpected error")]
    private partial void LogRunError(Guid runId, Exception exception);

    /// <summary>
    /// The worker's hold on one claimed run: receives the pipeline's progress, writes it with the heartbeat (renewing the
    /// lease and reading a cancel request), and writes the end. Every write names the worker and the attempt, so a worker
    /// that lost its lease writes nothing more.
    /// </summary>
    private sealed class RunLease(AnalysisRunWorker owner, IServiceProvider services, Claim claim, string worker) : IProgress<AnalysisProgress>, IDisposable
    {
        private static readonly TimeSpan MinimumWriteInterval = TimeSpan.FromMilliseconds(100);

        private readonly Lock _gate = new();
        private readonly SemaphoreSlim _dirty = new(0);
        private readonly List<RunStepTiming> _timings = [];
        private readonly CancellationTokenSource _stopHeartbeat = new();
        private string? _step;
        private string? _message = "Started";
        private double? _fraction;

        public bool Lost { get; private set; }

        public void Dispose()
        {
            _dirty.Dispose();
            _stopHeartbeat.Dispose();
        }

        public bool CancelRequested { get; private set; }

        public void Report(AnalysisProgress value)
        {
            lock (_gate)
            {
                var step = value.Step.ToString();
                if (step != _step)
                {
                    var now = DateTimeOffset.UtcNow;
                    if (_timings.Count > 0 && _timings[^1].FinishedAt is null)
                    {
                        _timings[^1] = _timings[^1] with { FinishedAt = now };
                    }

                    _timings.Add(new RunStepTiming(step, now, null));
                    _step = step;
                }

                _message = value.Message;
                _fraction = value.Fraction is { } f ? Math.Clamp(f, 0, 1) : null;
            }

            if (_dirty.CurrentCount == 0)
            {
                _dirty.Release();
            }
        }

        /// <summary>Heartbeats and progress writes until stopped; cancels <paramref name="run"/> on a cancel request or a lost lease.</summary>
        public async Task KeepAsync(CancellationTokenSource run)
        {
            var token = _stopHeartbeat.Token;
            while (!token.IsCancellationRequested)
            {
                try
                {
                    var woken = await _dirty.WaitAsync(owner._options.Heartbeat, token);
                    var cancel = await WriteProgressAsync(token);
                    if (cancel is null)
                    {
                        Lost = true;
                        await run.CancelAsync();
                        return;
                    }

                    if (cancel.Value)
                    {
                        CancelRequested = true;
                        await run.CancelAsync();
                        return;
                    }

                    if (woken)
                    {
                        await Task.Delay(MinimumWriteInterval, token);
                    }
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
                {
                    // A missed heartbeat is not fatal: the lease outlives several of them.
                    owner.LogDatabaseError(exception);
                }
            }
        }

        public async Task StopAsync(Task heartbeat)
        {
            await _stopHeartbeat.CancelAsync();
            await heartbeat;
        }

        private (string? Step, string? Message, double? Fraction, string Timings) Snapshot(bool closeLast = false)
        {
            lock (_gate)
            {
                if (closeLast && _timings.Count > 0 && _timings[^1].FinishedAt is null)
                {
                    _timings[^1] = _timings[^1] with { FinishedAt = DateTimeOffset.UtcNow };
                }

                return (_step, _message, _fraction, AnalysisRunJson.Serialize(_timings));
            }
        }

        /// <summary>Writes progress and renews the lease; returns whether a cancel was requested, or null when the lease is lost.</summary>
        private async Task<bool?> WriteProgressAsync(CancellationToken cancellationToken)
        {
            var (step, message, fraction, timings) = Snapshot();
            return await ExecuteAsync<bool?>(
                """
                UPDATE app.analysis_runs
                SET step = @step, message = @message, fraction = @fraction, step_timings = @timings::jsonb,
                    heartbeat_at = now(), lease_expires_at = now() + make_interval(secs => @lease)
                WHERE id = @runId AND worker = @worker AND attempt = @attempt AND status = 'running'
                RETURNING cancel_requested
                """,
                new { step, message, fraction, timings, lease = owner._options.Lease.TotalSeconds, runId = claim.RunId, worker, attempt = claim.Attempt },
                cancellationToken);
        }

        public async Task<bool> SucceedAsync(ProtocolRunOutput output, CancellationToken cancellationToken)
        {
            var (step, _, _, timings) = Snapshot(closeLast: true);
            var facts = new StoredRunFacts(
                output.Facts.SourceLoadedAt,
                DateOnly.FromDateTime(DateTime.UtcNow),
                output.Facts.RemovedByConsent,
                output.Facts.CodeVersion,
                output.Facts.PackageVersions);
            var hr = output.Result.Estimates.HazardRatio;
            var written = await ExecuteAsync<Guid?>(
                """
                UPDATE app.analysis_runs
                SET status = 'succeeded', step = @step, message = 'Finished', fraction = 1, step_timings = @timings::jsonb,
                    result = @result::jsonb, reproducibility = @facts::jsonb,
                    hazard_ratio = @hr, hazard_ratio_lower = @lower, hazard_ratio_upper = @upper,
                    cancel_requested = false, lease_expires_at = NULL
                WHERE id = @runId AND worker = @worker AND attempt = @attempt AND status = 'running'
                RETURNING id
                """,
                new
                {
                    step,
                    timings,
                    result = AnalysisRunJson.Serialize(output.Result),
                    facts = AnalysisRunJson.Serialize(facts),
                    hr = Finite(hr.Value),
                    lower = Finite(hr.Lower),
                    upper = Finite(hr.Upper),
                    runId = claim.RunId,
                    worker,
                    attempt = claim.Attempt,
                },
                cancellationToken);
            return written is not null;
        }

        public async Task FinishAsync(string status, string? code, string? message, string? line, CancellationToken cancellationToken)
        {
            var (step, _, fraction, timings) = Snapshot(closeLast: true);
            await ExecuteAsync<Guid?>(
                """
                UPDATE app.analysis_runs
                SET status = @status, step = @step, message = @line, fraction = @fraction, step_timings = @timings::jsonb,
                    error_code = @code, error_message = @message, lease_expires_at = NULL
                WHERE id = @runId AND worker = @worker AND attempt = @attempt AND status = 'running'
                RETURNING id
                """,
                new { status, step, line = line ?? message, fraction, timings, code, message, runId = claim.RunId, worker, attempt = claim.Attempt },
                cancellationToken);
        }

        /// <summary>The worker is stopping (the host shuts down): the run goes back to the queue for the next worker, same attempt.</summary>
        public async Task RequeueAsync(CancellationToken cancellationToken) => await ExecuteAsync<Guid?>(
            """
            UPDATE app.analysis_runs
            SET status = 'queued', worker = NULL, lease_expires_at = NULL, heartbeat_at = NULL, started_at = NULL,
                step = NULL, message = 'Waiting for a worker (the last one stopped)', fraction = NULL, step_timings = '[]'::jsonb
            WHERE id = @runId AND worker = @worker AND attempt = @attempt AND status = 'running'
            RETURNING id
            """,
            new { runId = claim.RunId, worker, attempt = claim.Attempt },
            cancellationToken);

        private async Task<T?> ExecuteAsync<T>(string sql, object parameters, CancellationToken cancellationToken)
        {
            await using var db = await ContextAsync(services, claim.TenantId, cancellationToken);
            var connection = await AnalysisRunStore.ConnectionAsync(db, cancellationToken);
            return await connection.QuerySingleOrDefaultAsync<T>(AnalysisRunStore.Command(db, sql, parameters, cancellationToken));
        }

        private static double? Finite(double value) => double.IsFinite(value) ? value : null;
    }
}
