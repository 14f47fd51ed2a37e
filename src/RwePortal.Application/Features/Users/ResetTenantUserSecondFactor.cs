using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Identity;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Users;

/// <summary>
/// For a person who lost their authenticator: turns their second factor off and replaces its key, so they enrol
/// again (administrators are made to at their next sign-in). Their open sessions end within a minute.
/// </summary>
public static class ResetTenantUserSecondFactor
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
                var member = await TenantUsers.FindMemberAsync(db, tenantId, request.UserId, cancellationToken);
                if (member is null)
                {
                    return TenantUsers.NotFound();
                }

                if (request.UserId == admin.UserId)
                {
                    return TenantUsers.Self();
                }

                if (!await TenantUsers.IsConfinedToAsync(db, member, tenantId, cancellationToken))
                {
                    return TenantUsers.SharedAccount();
                }
            }

            var user = await users.FindByIdAsync(request.UserId.ToString());
            if (user is null)
            {
                return TenantUsers.NotFound();
            }

            // Both change the security stamp, which ends the open sessions.
            var reset = await users.ResetAuthenticatorKeyAsync(user);
            var disabled = reset.Succeeded ? await users.SetTwoFactorEnabledAsync(user, false) : reset;
            if (!disabled.Succeeded)
            {
                return Error.Validation(disabled.Errors.Select(e => e.Description));
            }

            return new Response(user.Id);
        }
    }
}
