using FluentValidation;
using MediatR;
using RwePortal.Application.Analyses;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Jobs;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Analyses;

/// <summary>
/// One run as its page shows it: what was run, where it is (status, step, message, fraction, step timings, attempt),
/// why it failed, who asked for it, its reproducibility record and, once it succeeded, the result document (every count
/// in it already through the tenant's small-cell policy).
/// </summary>
public static class GetAnalysisRun
{
    [RequiresPermission(Permission.ViewAnalyses)]
    public sealed record Query(Guid RunId) : IRequest<Result<Response>>;

    public sealed record Response(
        Guid RunId,
        Guid ProtocolId,
        string ProtocolTitle,
        int ProtocolVersion,
        string ProtocolHash,
        string Source,
        string Purpose,
        string Status,
        string? Step,
        string? Message,
        double? Fraction,
        IReadOnlyList<RunStepTiming> StepTimings,
        int Attempt,
        bool CancelRequested,
        RunError? Error,
        string RequestedBy,
        DateTimeOffset CreatedAt,
        DateTimeOffset? StartedAt,
        DateTimeOffset? FinishedAt,
        RunReproducibility Reproducibility,
        AnalysisResultDocument? Result);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator() => RuleFor(q => q.RunId).NotEmpty();
    }

    internal sealed class Handler(TenantDbContextFactory contexts) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateAsync(cancellationToken);
            var run = await AnalysisRunStore.FindAsync(db, request.RunId, cancellationToken);
            return run is null ? AnalysisRunErrors.NotFound() : From(run);
        }
    }

    internal static Response From(AnalysisRunRow run) => new(
        run.Id,
        run.ProtocolId,
        run.ProtocolTitle,
        run.ProtocolVersion,
        run.ProtocolHash,
        run.Source,
        run.Purpose,
        run.Status,
        run.Step,
        run.Message,
        run.Fraction,
        run.Timings,
        run.Attempt,
        run.CancelRequested,
        run.Error,
        run.RequestedByName ?? "",
        AnalysisRunRow.Utc(run.CreatedAt),
        AnalysisRunRow.Utc(run.StartedAt),
        AnalysisRunRow.Utc(run.FinishedAt),
        run.ReproducibilityRecord(),
        AnalysisRunJson.Result(run.Result));
}
