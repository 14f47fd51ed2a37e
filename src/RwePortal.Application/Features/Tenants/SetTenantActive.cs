using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Tenants;

/// <summary>
/// Deactivates (or reactivates) a tenant. Nobody works in a deactivated tenant: sign-in skips it, and its members'
/// security stamps change so their open pages lose the session within a minute. Its data stays.
/// </summary>
public static class SetTenantActive
{
    [RequiresPermission(Permission.ManageTenants)]
    public sealed record Command(Guid TenantId, bool Active) : IRequest<Result<Response>>;

    public sealed record Response(Guid TenantId, bool IsActive, int SessionsEnded);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator() => RuleFor(c => c.TenantId).NotEmpty();
    }

    internal sealed class Handler(AppDbContext db, UserManager<ApplicationUser> users, IAuditTrail audit) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var tenant = await db.Tenants.SingleOrDefaultAsync(t => t.Id == request.TenantId, cancellationToken);
            if (tenant is null)
            {
                return Error.NotFound("Tenant");
            }

            if (tenant.IsActive == request.Active)
            {
                return new Response(tenant.Id, tenant.IsActive, 0);
            }

            tenant.IsActive = request.Active;
            await db.SaveChangesAsync(cancellationToken);

            // Every member's stamp changes on deactivation; their memberships are the tenant's rows.
            var members = new List<Guid>();
            if (!request.Active)
            {
                await db.ActInTenantAsync(tenant.Id, cancellationToken);
                members = (await db.QueryAsync<Guid>(
                    "SELECT DISTINCT user_id FROM app.tenant_memberships WHERE tenant_id = @tenantId",
                    new { tenantId = tenant.Id },
                    cancellationToken)).ToList();
                foreach (var id in members)
                {
                    if (await users.FindByIdAsync(id.ToString()) is { } member)
                    {
                        await users.UpdateSecurityStampAsync(member);
                    }
                }
            }

            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"SetTenantActive: tenant {tenant.Slug} ({tenant.Id})", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { active = !request.Active },
                    ["after"] = new { active = request.Active },
                    ["sessions_ended"] = members.Count,
                }),
                tenant.Id,
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(request.TenantId, request.Active, members.Count);
        }
    }
}
