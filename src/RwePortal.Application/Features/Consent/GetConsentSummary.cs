using Dapper;
using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Consent;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Consent;

/// <summary>
/// Per active purpose of a source: the consent model in force and today's counts (people in the source, consenting,
/// withdrawn, removed by consent), through the current tenant's <see cref="SmallCellPolicy"/> (suppression without noise:
/// these are a registry's counts, not query results an analyst can vary; docs/privacy.md). For the custodian and for every tenant granted
/// the source alike; counts come from gov.consent_counts, the same rule as the filter cohort SQL uses.
/// </summary>
public static class GetConsentSummary
{
    [RequiresPermission(Permission.ManageConsent)]
    public sealed record Query(string Source) : IRequest<Result<Response>>;

    /// <summary>
    /// One purpose. <paramref name="Statement"/> says it in one line ("Research: waiver (IRB-2024-117) — 2,694 people").
    /// <paramref name="ModelSetBy"/> is given to the custodian only.
    /// </summary>
    public sealed record PurposeSummary(
        string Purpose,
        string Label,
        string Model,
        string? ModelReference,
        DateTimeOffset? ModelSetAt,
        string? ModelSetBy,
        CountCell Consented,
        CountCell Excluded,
        CountCell Withdrawn,
        string Statement);

    public sealed record Response(
        string Source,
        string? CustodianName,
        bool IsCustodian,
        DateOnly Today,
        CountCell Persons,
        IReadOnlyList<PurposeSummary> Purposes,
        int SmallCellThreshold = SmallCellPolicy.DefaultThreshold);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Source).NotEmpty().MaximumLength(64);
        }
    }

    internal sealed class Handler(AppSqlConnections connections, ConsentSourceAccess access, SmallCellPolicies policies) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var source = await access.FindAsync(request.Source, cancellationToken);
            if (source is null)
            {
                return Error.NotFound("DataSource");
            }

            await using var connection = await connections.OpenAsync(cancellationToken);
            var today = await ConsentRegistry.TodayAsync(connection, cancellationToken);
            var rows = (await connection.QueryAsync<CountRow>(new CommandDefinition(
                """
                SELECT purpose AS Purpose, label AS Label, model AS Model, reference AS Reference, set_at AS SetAt,
                       set_by AS SetBy, persons AS Persons, consented AS Consented, withdrawn AS Withdrawn, excluded AS Excluded
                FROM gov.consent_counts(@source)
                WHERE active
                """,
                new { source = request.Source },
                commandTimeout: AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken))).ToList();

            var policy = await policies.ForCurrentTenantAsync(cancellationToken);
            var persons = rows.Count > 0 ? rows[0].Persons : 0;
            var purposes = rows.Select(r =>
            {
                var (consented, excluded) = ConsentCounts.Complementary(policy, r.Consented, r.Excluded);
                var model = ConsentModels.Describe(r.Model, r.Reference);
                return new PurposeSummary(
                    r.Purpose,
                    r.Label,
                    r.Model,
                    r.Reference,
                    r.SetAt is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null,
                    source.IsCustodian ? r.SetBy : null,
                    consented,
                    excluded,
                    ConsentCounts.Cell(policy, r.Withdrawn),
                    $"{r.Label}: {model} — {consented.Display} people");
            }).ToList();
            return new Response(source.Name, source.CustodianName, source.IsCustodian, today, ConsentCounts.Cell(policy, persons), purposes, policy.Threshold);
        }
    }

    private sealed record CountRow(
        string Purpose,
        string Label,
        string Model,
        string? Reference,
        DateTime? SetAt,
        string? SetBy,
        long Persons,
        long Consented,
        long Withdrawn,
        long Excluded);
}
