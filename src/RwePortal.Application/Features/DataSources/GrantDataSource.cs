using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
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

    internal sealed class Handler(TenantDbContextFactory contexts, ICurrentUser currentUser) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var admin = await currentUser.GetAsync(cancellationToken);
            await using var db = await contexts.CreateCrossTenantAsync(cancellationToken);
            if (!await db.DataSources.AnyAsync(s => s.Id == request.DataSourceId, cancellationToken))
            {
                return Error.NotFound("DataSource");
            }

            if (!await db.Tenants.AnyAsync(t => t.Id == request.TenantId, cancellationToken))
            {
                return Error.NotFound("Tenant");
            }

            var purposes = DataPurposes.All.Where(request.Purposes.Contains).ToList();
            var grant = await db.DataSourceGrants.SingleOrDefaultAsync(
                g => g.TenantId == request.TenantId && g.DataSourceId == request.DataSourceId, cancellationToken);
            if (grant is null)
            {
                grant = new TenantDataSourceGrant { TenantId = request.TenantId, DataSourceId = request.DataSourceId };
                db.DataSourceGrants.Add(grant);
            }

            grant.Purposes = purposes;
            grant.GrantedAt = DateTimeOffset.UtcNow;
            grant.GrantedBy = admin.UserId;
            await db.SaveChangesAsync(cancellationToken);
            return new Response(grant.DataSourceId, grant.TenantId, purposes);
        }
    }
}
