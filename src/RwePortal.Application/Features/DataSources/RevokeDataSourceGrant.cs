using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.DataSources;

/// <summary>Takes a data source away from a tenant.</summary>
public static class RevokeDataSourceGrant
{
    [RequiresPermission(Permission.ManageDataSources)]
    public sealed record Command(Guid DataSourceId, Guid TenantId) : IRequest<Result<Response>>;

    public sealed record Response(Guid DataSourceId, Guid TenantId);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.DataSourceId).NotEmpty();
            RuleFor(c => c.TenantId).NotEmpty();
        }
    }

    internal sealed class Handler(TenantDbContextFactory contexts, IAuditTrail audit) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var db = await contexts.CreateForTenantAsync(request.TenantId, cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var grant = await db.DataSourceGrants
                .Where(g => g.TenantId == request.TenantId && g.DataSourceId == request.DataSourceId)
                .Join(db.DataSources, g => g.DataSourceId, s => s.Id, (g, s) => new { g.Id, g.Purposes, Source = s.Name })
                .SingleOrDefaultAsync(cancellationToken);
            if (grant is null)
            {
                return Error.NotFound("Grant");
            }

            await db.DataSourceGrants.Where(g => g.Id == grant.Id).ExecuteDeleteAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"RevokeDataSourceGrant: {grant.Source} from tenant {request.TenantId}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { purposes = grant.Purposes },
                    ["after"] = null,
                }),
                request.TenantId,
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(request.DataSourceId, request.TenantId);
        }
    }
}
