using Dapper;
using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Consent;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Consent;

/// <summary>
/// One person of a source: their standing today per purpose (gov.consent_status, under the model in force) and every
/// record, latest recorded first. For the source's custodian only: a tenant granted the source gets
/// <see cref="ConsentErrors.Forbidden"/>, any other tenant "not found". Read under row-level security for the
/// custodian tenant, so the database holds the same line.
/// </summary>
public static class GetPersonConsent
{
    [RequiresPermission(Permission.ManageConsent)]
    public sealed record Query(string Source, long PersonId) : IRequest<Result<Response>>;

    /// <summary>Status is granted, withdrawn, expired or none; <paramref name="Consented"/> is what cohort queries apply today.</summary>
    public sealed record PurposeStatus(
        string Purpose,
        string Label,
        string Model,
        string Status,
        DateOnly? EffectiveFrom,
        DateOnly? EffectiveTo,
        bool Consented);

    public sealed record HistoryEntry(
        long ConsentId,
        string Purpose,
        string Status,
        DateOnly EffectiveFrom,
        DateOnly? EffectiveTo,
        DateTimeOffset RecordedAt,
        string RecordedBy,
        string? Reason);

    public sealed record Response(string Source, long PersonId, DateOnly Today, IReadOnlyList<PurposeStatus> Purposes, IReadOnlyList<HistoryEntry> History);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Source).NotEmpty().MaximumLength(64);
            RuleFor(q => q.PersonId).GreaterThan(0);
        }
    }

    internal sealed class Handler(AppSqlConnections connections, ConsentSourceAccess access) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var custodian = await access.RequireCustodianAsync(request.Source, cancellationToken);
            if (!custodian.Succeeded)
            {
                return custodian.Error!;
            }

            await using var connection = await connections.OpenAsync(cancellationToken);
            var known = await ConsentRegistry.FindPersonsAsync(connection, request.Source, [request.PersonId], [], cancellationToken);
            if (known.Count == 0)
            {
                return Error.NotFound("Person");
            }

            await using var transaction = await ConsentRegistry.BeginForTenantAsync(connection, custodian.Value!.CustodianTenantId, cancellationToken);
            var today = await ConsentRegistry.TodayAsync(connection, cancellationToken);
            var statuses = await connection.QueryAsync<StatusRow>(new CommandDefinition(
                """
                SELECT s.purpose AS Purpose, p.label AS Label, s.model AS Model, s.status AS Status,
                       s.effective_from AS EffectiveFrom, s.effective_to AS EffectiveTo, s.consented AS Consented
                FROM gov.consent_status(@source, @personId) s
                JOIN gov.consent_purpose p ON p.code = s.purpose
                ORDER BY p.sort_order, p.code
                """,
                new { source = request.Source, personId = request.PersonId },
                transaction,
                AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            var history = await connection.QueryAsync<HistoryRow>(new CommandDefinition(
                """
                SELECT consent_id AS ConsentId, purpose AS Purpose, status AS Status, effective_from AS EffectiveFrom,
                       effective_to AS EffectiveTo, recorded_at AS RecordedAt, recorded_by AS RecordedBy, reason AS Reason
                FROM gov.consent
                WHERE source = @source AND person_id = @personId
                ORDER BY recorded_at DESC, consent_id DESC
                """,
                new { source = request.Source, personId = request.PersonId },
                transaction,
                AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);

            return new Response(
                request.Source,
                request.PersonId,
                today,
                statuses.Select(s => new PurposeStatus(
                    s.Purpose, s.Label, s.Model, s.Status, s.EffectiveFrom, s.EffectiveTo, s.Consented)).ToList(),
                history.Select(h => new HistoryEntry(
                    h.ConsentId,
                    h.Purpose,
                    h.Status,
                    h.EffectiveFrom,
                    h.EffectiveTo,
                    new DateTimeOffset(DateTime.SpecifyKind(h.RecordedAt, DateTimeKind.Utc)),
                    h.RecordedBy,
                    h.Reason)).ToList());
        }
    }

    private sealed record StatusRow(string Purpose, string Label, string Model, string Status, DateOnly? EffectiveFrom, DateOnly? EffectiveTo, bool Consented);

    private sealed record HistoryRow(
        long ConsentId,
        string Purpose,
        string Status,
        DateOnly EffectiveFrom,
        DateOnly? EffectiveTo,
        DateTime RecordedAt,
        string RecordedBy,
        string? Reason);
}
