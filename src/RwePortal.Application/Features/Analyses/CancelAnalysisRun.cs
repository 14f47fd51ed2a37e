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
/// Cancels a run: a queued run is cancelled at once; a running one is asked to stop, and its worker stops it at the next
/// check (its next progress line or heartbeat), the cancellation reaching the pipeline through its token.
/// </summary>
public static class CancelAnalysisRun
{
    [RequiresPermission(Permission.RunAnalyses)]
    public sealed record Command(Guid RunId) : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"run {RunId}";
    }

    /// <summary>The run's status after the request: cancelled, or still running with the stop requested.</summary>
    public sealed record Response(Guid RunId, string Status, bool CancelRequested);

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
            var connection = await AnalysisRunStore.ConnectionAsync(db, cancellationToken);

            // One statement: a worker that claims the run meanwhile holds its row lock, and this one then sees it running.
            var changed = await connection.QuerySingleOrDefaultAsync<Changed>(AnalysisRunStore.Command(
                db,
                """
                UPDATE app.analysis_runs
                SET status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
                    cancel_requested = (status = 'running'),
                    message = CASE WHEN status = 'queued' THEN 'Cancelled before it started' ELSE 'Stopping: cancel requested' END
                WHERE id = @runId AND status IN ('queued', 'running')
                RETURNING status AS Status, cancel_requested AS CancelRequested
                """,
                new { runId = request.RunId },
                cancellationToken));
            if (changed is null)
            {
                var run = await AnalysisRunStore.FindAsync(db, request.RunId, cancellationToken, withResult: false);
                return run is null ? AnalysisRunErrors.NotFound() : AnalysisRunErrors.NotCancellable(run.Status);
            }

            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"{nameof(CancelAnalysisRun)}: run {request.RunId}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["after"] = new { status = changed.Status, cancel_requested = changed.CancelRequested },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(request.RunId, changed.Status, changed.CancelRequested);
        }

        private sealed class Changed
        {
            public string Status { get; set; } = "";

            public bool CancelRequested { get; set; }
        }
    }
}
