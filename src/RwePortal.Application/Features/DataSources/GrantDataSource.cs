using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Features.DataSources;

/// <summary>
/// Lets a tenant use a data source for the named purposes (replacing the purposes of an earlier grant). Patients'
/// consent is still checked per purpose on every query; a grant only opens the source to the tenant.
/// </summary>
public static class GrantDataSource
{
    [RequiresPermission(Permission.ManageDataSources)]
    public sealed record Command(Guid DataSourceId, Guid TenantId, IReadOnlyList<string> Purposes) : IRequest<Result<Response>>;

    public sealed record Response(Guid DataSourceId, Guid TenantId, IReadOnlyList<string> Purposes);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.DataSourceId).NotEmpty();
            RuleFor(c => c.TenantId).NotEmpty();
            RuleFor(c => c.Purposes).NotEmpty().WithMessage("Name at least one purpose, or revoke the grant.");
            RuleForEach(c => c.Purposes).Must(DataPurposes.IsKnown)
                .WithMessage(p => $"Unknown purpose; use one of: {string.Join(", ", DataPurposes.All)}.");
        }
    }

    internal sealed class Handler(TenantDbContextFactory contexts, ICurrentUser currentUser, IAuditTrail audit) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var admin = await currentUser.GetAsync(cancellationToken);
            // The platform Admin acts in the grantee's tenant: the grant is that tenant's row.
            await using var db = await contexts.CreateForTenantAsync(request.TenantId, cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var source = await db.DataSources.AsNoTracking().SingleOrDefaultAsync(s => s.Id == request.DataSourceId, cancellationToken);
            if (source is null)
            {
                return Error.NotFound("DataSource");
            }

            var tenant = await db.Tenants.AsNoTracking().SingleOrDefaultAsync(t => t.Id == request.TenantId, cancellationToken);
            if (tenant is null)
            {
                return Error.NotFound("Tenant");
            }

            var purposes = DataPurposes.All.Where(request.Purposes.Contains).ToList();
            var grant = await db.DataSourceGrants.SingleOrDefaultAsync(
                g => g.TenantId == request.TenantId && g.DataSourceId == request.DataSourceId, cancellationToken);
            var before = grant?.Purposes.ToList();
            if (grant is null)
            {
                grant = new TenantDataSourceGrant { TenantId = request.TenantId, DataSourceId = request.DataSourceId };
                db.DataSourceGrants.Add(grant);
            }

            grant.Purposes = purposes;
            grant.GrantedAt = DateTimeOffset.UtcNow;
            grant.GrantedBy = admin.UserId;
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"GrantDataSource: {source.Name} to tenant {tenant.Slug}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = before is null ? null : new { purposes = before },
                    ["after"] = new { purposes },
                }),
                request.TenantId,
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(grant.DataSourceId, grant.TenantId, purposes);
        }
    }
}
