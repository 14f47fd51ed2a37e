using Dapper;
using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Audit;

/// <summary>One page of the audit trail, newest first, filtered; a TenantAdmin sees their tenant's events, the platform Admin all.</summary>
public static class ListAuditEvents
{
    public const int MaxPageSize = 200;

    [RequiresPermission(Permission.ViewAudit)]
    public sealed record Query(AuditEventFilter Filter, int Page = 0, int PageSize = 25) : IRequest<Result<Response>>;

    public sealed record Response(IReadOnlyList<AuditEventView> Items, long TotalCount);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Page).GreaterThanOrEqualTo(0);
            RuleFor(q => q.PageSize).InclusiveBetween(1, MaxPageSize);
            RuleFor(q => q.Filter).NotNull();
            RuleFor(q => q.Filter.EventType).Must(t => t is null || AuditEventTypes.All.Contains(t))
                .WithMessage("Unknown event type.");
            RuleFor(q => q.Filter.User).MaximumLength(256);
            RuleFor(q => q.Filter.Target).MaximumLength(256);
            RuleFor(q => q.Filter).Must(f => f.From is null || f.To is null || f.From <= f.To)
                .WithMessage("The start date is after the end date.");
        }
    }

    internal sealed class Handler(AppSqlConnections connections, ICurrentUser currentUser) : IRequestHandler<Query, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            var parameters = AuditEventQuery.Parameters(request.Filter, user);
            parameters.Add("limit", request.PageSize);
            parameters.Add("offset", (long)request.Page * request.PageSize);

            await using var connection = await connections.OpenAsync(cancellationToken);
            var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                $"SELECT count(*) FROM app.audit_event {AuditEventQuery.Where}",
                parameters,
                commandTimeout: AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            var rows = await connection.QueryAsync<Row>(new CommandDefinition(
                $"""
                SELECT {AuditEventQuery.Columns}
                FROM app.audit_event
                {AuditEventQuery.Where}
                ORDER BY id DESC
                LIMIT @limit OFFSET @offset
                """,
                parameters,
                commandTimeout: AppSqlConnections.CommandTimeoutSeconds,
                cancellationToken: cancellationToken));
            return new Response(rows.Select(r => r.ToView()).ToList(), total);
        }
    }

    internal sealed record Row(long Id, DateTime OccurredAt, Guid? TenantId, string? UserEmail, string EventType, string? Target, string Outcome, string Details)
    {
        public AuditEventView ToView() =>
            new(Id, new DateTimeOffset(DateTime.SpecifyKind(OccurredAt, DateTimeKind.Utc)), TenantId, UserEmail, EventType, Target, Outcome, Details);
    }
}
