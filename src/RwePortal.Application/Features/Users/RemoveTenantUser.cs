using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
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

    internal sealed class Handler(ICurrentUser currentUser, TenantDbContextFactory contexts, UserManager<ApplicationUser> users)
        : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var admin = await currentUser.GetAsync(cancellationToken);
            if (admin.TenantId is not { } tenantId)
            {
                return TenantUsers.NoTenant();
            }

            await using (var db = await contexts.CreateAsync(cancellationToken))
            {
                if (await TenantUsers.FindMemberAsync(db, tenantId, request.UserId, cancellationToken) is null)
                {
                    return TenantUsers.NotFound();
                }

                if (request.UserId == admin.UserId)
                {
                    return TenantUsers.Self();
                }

                await db.TenantMemberships.Where(m => m.TenantId == tenantId && m.UserId == request.UserId).ExecuteDeleteAsync(cancellationToken);
            }

            var user = await users.FindByIdAsync(request.UserId.ToString());
            if (user is not null)
            {
                await users.UpdateSecurityStampAsync(user);
            }

            return new Response(request.UserId);
        }
    }
}
