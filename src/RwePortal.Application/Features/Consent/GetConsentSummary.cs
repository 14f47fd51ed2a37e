using Dapper;
using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Consent;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Consent;

/// <summary>
/// How many people of a source consent to each active purpose on a date (by gov.consented_persons), and how many
/// have withdrawn. The counts are raw; pages show them through <see cref="SmallCellPolicy"/>.
/// </summary>
public static class GetConsentSummary
{
    [RequiresPermission(Permission.ManageConsent)]
    public sealed record Query(string Source, DateOnly AsOf) : IRequest<Result<Response>>;

    public sealed record PurposeCount(string Purpose, string Label, long Consented, long Withdrawn);

    public sealed record Response(string Source, DateOnly AsOf, IReadOnlyList<PurposeCount> Purposes);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Source).NotEmpty().MaximumLength(64);
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

            var rows = await connection.QueryAsync<PurposeCount>(new CommandDefinition(
                """
                SELECT p.code AS Purpose, p.label AS Label,
                       (SELECT count(*) FROM gov.consented_persons(@source, p.code, CAST(@asOf AS date))) AS Consented,
                       (SELECT count(*) FROM gov.latest_consent(@source, p.code, CAST(@asOf AS date)) l
                        WHERE l.status = 'withdrawn') AS Withdrawn
                FROM gov.consent_purpose p
                WHERE p.active
                ORDER BY p.sort_order, p.code
                """,
                new { source = request.Source, asOf = request.AsOf },
                commandTimeout: AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            return new Response(request.Source, request.AsOf, rows.ToList());
        }
    }
}
