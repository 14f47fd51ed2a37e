using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
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

    internal sealed class Handler(TenantDbContextFactory contexts, UserManager<ApplicationUser> users) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            List<Guid> members;
            await using (var db = await contexts.CreateCrossTenantAsync(cancellationToken))
            {
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
                members = request.Active
                    ? []
                    : await db.TenantMemberships.Where(m => m.TenantId == tenant.Id).Select(m => m.UserId).Distinct().ToListAsync(cancellationToken);
            }

            foreach (var id in members)
            {
                if (await users.FindByIdAsync(id.ToString()) is { } member)
                {
                    await users.UpdateSecurityStampAsync(member);
                }
            }

            return new Response(request.TenantId, request.Active, members.Count);
        }
    }
}
