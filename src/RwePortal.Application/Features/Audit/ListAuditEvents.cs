using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Audit;

/// <summary>
/// One page of the audit trail, newest first, filtered. A TenantAdmin sees their current tenant's events (row-level
/// security holds it in PostgreSQL too); the platform Admin every event, those without a tenant included.
/// </summary>
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
            await using var trail = await AuditEventReader.OpenAsync(connections, user, cancellationToken);
            var total = await trail.CountAsync(request.Filter, cancellationToken);
            var items = await trail.FindAsync(
                request.Filter, request.PageSize, (long)request.Page * request.PageSize, AppSqlConnections.CommandTimeoutSeconds, cancellationToken);
            return new Response(items, total);
        }
    }
}
