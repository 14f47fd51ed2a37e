using Dapper;
using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Consent;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Consent;

/// <summary>One person of a source: their standing per purpose on a date (gov.consent_status) and every record, newest first.</summary>
public static class GetPersonConsent
{
    [RequiresPermission(Permission.ManageConsent)]
    public sealed record Query(string Source, long PersonId, DateOnly AsOf) : IRequest<Result<Response>>;

    /// <summary>Status is granted, withdrawn, expired or none; <paramref name="Consented"/> is what cohort queries apply.</summary>
    public sealed record PurposeStatus(string Purpose, string Label, string Status, DateOnly? EffectiveFrom, DateOnly? EffectiveTo, bool Consented);

    public sealed record HistoryEntry(
        long ConsentId,
        string Purpose,
        string Status,
        DateOnly EffectiveFrom,
        DateOnly? EffectiveTo,
        DateTimeOffset RecordedAt,
        string RecordedBy,
        string? Reason);

    public sealed record Response(string Source, long PersonId, DateOnly AsOf, IReadOnlyList<PurposeStatus> Purposes, IReadOnlyList<HistoryEntry> History);

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
            await using var connection = await connections.OpenAsync(cancellationToken);
            if (!await access.AllowsAsync(request.Source, cancellationToken))
            {
                return Error.NotFound("DataSource");
            }

            var known = await ConsentRegistry.FindPersonsAsync(connection, request.Source, [request.PersonId], [], cancellationToken);
            if (known.Count == 0)
            {
                return Error.NotFound("Person");
            }

            var statuses = await connection.QueryAsync<StatusRow>(new CommandDefinition(
                """
                SELECT s.purpose AS Purpose, p.label AS Label, s.status AS Status, s.effective_from AS EffectiveFrom,
                       s.effective_to AS EffectiveTo, s.consented AS Consented
                FROM gov.consent_status(@source, @personId, CAST(@asOf AS date)) s
                JOIN gov.consent_purpose p ON p.code = s.purpose
                """,
                new { source = request.Source, personId = request.PersonId, asOf = request.AsOf },
                commandTimeout: AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            var history = await connection.QueryAsync<HistoryRow>(new CommandDefinition(
                """
                SELECT consent_id AS ConsentId, purpose AS Purpose, status AS Status, effective_from AS EffectiveFrom,
                       effective_to AS EffectiveTo, recorded_at AS RecordedAt, recorded_by AS RecordedBy, reason AS Reason
                FROM gov.consent
                WHERE source = @source AND person_id = @personId
                ORDER BY effective_from DESC, consent_id DESC
                """,
                new { source = request.Source, personId = request.PersonId },
                commandTimeout: AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));

            return new Response(
                request.Source,
                request.PersonId,
                request.AsOf,
                statuses.Select(s => new PurposeStatus(
                    s.Purpose, s.Label, s.Status, s.EffectiveFrom, s.EffectiveTo, s.Consented)).ToList(),
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

    private sealed record StatusRow(string Purpose, string Label, string Status, DateOnly? EffectiveFrom, DateOnly? EffectiveTo, bool Consented);

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
