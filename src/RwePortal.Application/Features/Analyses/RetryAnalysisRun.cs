using Dapper;
using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Jobs;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Analyses;

/// <summary>
/// Queues a failed or cancelled run again as its next attempt, with the same inputs (protocol version and hash, source,
/// purpose, seed, requester); the last attempt's error is kept on the audit trail.
/// </summary>
public static class RetryAnalysisRun
{
    [RequiresPermission(Permission.RunAnalyses)]
    public sealed record Command(Guid RunId) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"run {RunId}";
    }

    public sealed record Response(Guid RunId, int Attempt);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator() => RuleFor(c => c.RunId).NotEmpty();
    }

    internal sealed class Handler(TenantDbContextFactory contexts, IAuditTrail audit) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateAsync(cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var run = await AnalysisRunStore.FindAsync(db, request.RunId, cancellationToken, withResult: false);
            if (run is null)
            {
                return AnalysisRunErrors.NotFound();
            }

            var connection = await AnalysisRunStore.ConnectionAsync(db, cancellationToken);
            var attempt = await connection.QuerySingleOrDefaultAsync<int?>(AnalysisRunStore.Command(
                db,
                """
                UPDATE app.analysis_runs
                SET status = 'queued', attempt = attempt + 1, cancel_requested = false, worker = NULL, lease_expires_at = NULL,
                    heartbeat_at = NULL, step = NULL, message = 'Waiting for a worker', fraction = NULL, step_timings = '[]'::jsonb,
                    error_code = NULL, error_message = NULL, started_at = NULL, finished_at = NULL
                WHERE id = @runId AND status IN ('failed', 'cancelled')
                RETURNING attempt
                """,
                new { runId = request.RunId },
                cancellationToken));
            if (attempt is null)
            {
                return AnalysisRunErrors.NotRetryable(run.Status);
            }

            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"{nameof(RetryAnalysisRun)}: run {request.RunId}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { status = run.Status, attempt = run.Attempt, error_code = run.ErrorCode },
                    ["after"] = new { status = AnalysisRunStatus.Queued, attempt },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(request.RunId, attempt.Value);
        }
    }
}
