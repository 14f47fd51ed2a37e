using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Features.Users;

/// <summary>
/// Sets a user's roles in the current tenant. Taking a role away changes the account's security stamp, so their
/// open pages lose the session within a minute and their next sign-in carries the new roles.
/// </summary>
public static class SetTenantUserRoles
{
    [RequiresPermission(Permission.ManageTenantUsers)]
    public sealed record Command(Guid UserId, IReadOnlyList<TenantRole> Roles) : IRequest<Result<Response>>;

    public sealed record Response(Guid UserId, IReadOnlyList<TenantRole> Roles, bool SessionsEnded);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.UserId).NotEmpty();
            RuleFor(c => c.Roles).NotEmpty().WithMessage("Keep at least one role, or remove the user from the tenant.");
            RuleForEach(c => c.Roles).IsInEnum();
        }
    }

    internal sealed class Handler(ICurrentUser currentUser, AppDbContext db, UserManager<ApplicationUser> users, IAuditTrail audit)
        : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var admin = await currentUser.GetAsync(cancellationToken);
            if (admin.TenantId is not { } tenantId)
            {
                return TenantUsers.NoTenant();
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var user = await TenantUsers.FindMemberAsync(db, tenantId, request.UserId, cancellationToken);
            if (user is null)
            {
                return TenantUsers.NotFound();
            }

            var wanted = request.Roles.Distinct().ToHashSet();
            if (request.UserId == admin.UserId && !wanted.Contains(TenantRole.TenantAdmin))
            {
                return TenantUsers.Self();
            }

            var current = await db.TenantMemberships
                .Where(m => m.TenantId == tenantId && m.UserId == request.UserId)
                .ToListAsync(cancellationToken);
            var removed = current.Where(m => !wanted.Contains(m.Role)).ToList();
            db.TenantMemberships.RemoveRange(removed);
            db.TenantMemberships.AddRange(wanted.Where(role => current.All(m => m.Role != role))
                .Select(role => new TenantMembership { TenantId = tenantId, UserId = request.UserId, Role = role }));
            await db.SaveChangesAsync(cancellationToken);

            if (removed.Count > 0)
            {
                await users.UpdateSecurityStampAsync(user);
            }

            var after = wanted.Order().ToList();
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"SetTenantUserRoles: {TenantUsers.AuditTarget(user)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { roles = current.Select(m => m.Role).Order().Select(r => r.ToString()) },
                    ["after"] = new { roles = after.Select(r => r.ToString()) },
                    ["sessions_ended"] = removed.Count > 0,
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(request.UserId, after, removed.Count > 0);
        }
    }
}
