using Dapper;
using FluentValidation;
using MediatR;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Jobs;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Analyses;

/// <summary>
/// The tenant's runs, newest first, paged on the server: by protocol, source, date (the day it finished, or was queued
/// while unfinished, UTC), status, and by heterogeneity subgroup (runs whose result has a subgroup of that name). Each
/// line has the adjusted hazard ratio with its 95% interval once the run succeeded.
/// </summary>
public static class ListAnalysisRuns
{
    public const int MaxPageSize = 200;

    [RequiresPermission(Permission.ViewAnalyses)]
    public sealed record Query(
        Guid? ProtocolId = null,
        string? Source = null,
        DateOnly? From = null,
        DateOnly? To = null,
        string? Subgroup = null,
        string? Status = null,
        int Page = 0,
        int PageSize = 25) : IRequest<Result<Response>>;

    public sealed record Item(
        Guid RunId,
        Guid ProtocolId,
        string ProtocolTitle,
        int ProtocolVersion,
        string Source,
        string Purpose,
        string Status,
        int Attempt,
        string RequestedBy,
        DateTimeOffset CreatedAt,
        DateTimeOffset? FinishedAt,
        double? HazardRatio,
        double? HazardRatioLower,
        double? HazardRatioUpper);

    public sealed record Response(IReadOnlyList<Item> Items, int Total);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Page).GreaterThanOrEqualTo(0);
            RuleFor(q => q.PageSize).InclusiveBetween(1, MaxPageSize);
            RuleFor(q => q.Source).MaximumLength(64);
            RuleFor(q => q.Subgroup).MaximumLength(200);
            RuleFor(q => q.Status).Must(s => s is null || AnalysisRunStatus.IsKnown(s))
                .WithMessage($"Unknown status; use one of: {string.Join(", ", AnalysisRunStatus.All)}.");
            RuleFor(q => q).Must(q => q.From is null || q.To is null || q.From <= q.To).WithMessage("From is after To.");
        }
    }

    internal sealed class Handler(TenantDbContextFactory contexts) : IRequestHandler<Query, Result<Response>>
    {
        private const string Where = """
            WHERE (@protocolId::uuid IS NULL OR r.protocol_id = @protocolId)
              AND (@source::text IS NULL OR r.source = @source)
              AND (@status::text IS NULL OR r.status = @status)
              AND (@from::date IS NULL OR (coalesce(r.finished_at, r.created_at) AT TIME ZONE 'UTC')::date >= @from)
              AND (@to::date IS NULL OR (coalesce(r.finished_at, r.created_at) AT TIME ZONE 'UTC')::date <= @to)
              AND (@subgroup::text IS NULL OR r.result -> 'subgroups' @> jsonb_build_array(jsonb_build_object('name', @subgroup::text)))
            """;

        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateAsync(cancellationToken);
            var connection = await AnalysisRunStore.ConnectionAsync(db, cancellationToken);
            var parameters = new
            {
                protocolId = request.ProtocolId,
                source = string.IsNullOrWhiteSpace(request.Source) ? null : request.Source,
                status = request.Status,
                from = request.From?.ToDateTime(TimeOnly.MinValue),
                to = request.To?.ToDateTime(TimeOnly.MinValue),
                subgroup = string.IsNullOrWhiteSpace(request.Subgroup) ? null : request.Subgroup,
                offset = request.Page * request.PageSize,
                limit = request.PageSize,
            };
            var total = await connection.ExecuteScalarAsync<int>(AnalysisRunStore.Command(
                db, $"SELECT count(*)::integer FROM app.analysis_runs r {Where}", parameters, cancellationToken));
            var rows = await connection.QueryAsync<AnalysisRunRow>(AnalysisRunStore.Command(
                db,
                $"""
                SELECT {AnalysisRunStore.Columns.Replace("r.result::text AS Result", "NULL::text AS Result", StringComparison.Ordinal)}
                FROM {AnalysisRunStore.From}
                {Where}
                ORDER BY r.created_at DESC, r.id
                OFFSET @offset LIMIT @limit
                """,
                parameters,
                cancellationToken));
            var items = rows.Select(r => new Item(
                    r.Id, r.ProtocolId, r.ProtocolTitle, r.ProtocolVersion, r.Source, r.Purpose, r.Status, r.Attempt,
                    r.RequestedByName ?? "", AnalysisRunRow.Utc(r.CreatedAt), AnalysisRunRow.Utc(r.FinishedAt),
                    r.HazardRatio, r.HazardRatioLower, r.HazardRatioUpper))
                .ToList();
            return new Response(items, total);
        }
    }
}
