using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Users;

/// <summary>
/// Takes every role a person holds in the current tenant away. The account stays (it may be used in other tenants);
/// its security stamp changes so their open pages lose the session within a minute.
/// </summary>
public static class RemoveTenantUser
{
    [RequiresPermission(Permission.ManageTenantUsers)]
    public sealed record Command(Guid UserId) : IRequest<Result<Response>>;

    public sealed record Response(Guid UserId);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator() => RuleFor(c => c.UserId).NotEmpty();
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

            if (request.UserId == admin.UserId)
            {
                return TenantUsers.Self();
            }

            var roles = await TenantUsers.RolesAsync(db, tenantId, request.UserId, cancellationToken);
            await db.TenantMemberships.Where(m => m.TenantId == tenantId && m.UserId == request.UserId).ExecuteDeleteAsync(cancellationToken);
            await users.UpdateSecurityStampAsync(user);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"RemoveTenantUser: {TenantUsers.AuditTarget(user)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { member = true, roles = roles.Select(r => r.ToString()) },
                    ["after"] = new { member = false },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(request.UserId);
        }
    }
}
