using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Identity;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Users;

/// <summary>
/// Disables or enables an account of the current tenant. A disabled account cannot sign in, and its security stamp
/// changes so its open pages lose the session within a minute. Only accounts used in this tenant alone: a person
/// who also works elsewhere is removed from this tenant instead.
/// </summary>
public static class SetTenantUserDisabled
{
    [RequiresPermission(Permission.ManageTenantUsers)]
    public sealed record Command(Guid UserId, bool Disabled) : IRequest<Result<Response>>;

    public sealed record Response(Guid UserId, bool IsDisabled);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator() => RuleFor(c => c.UserId).NotEmpty();
    }

    internal sealed class Handler(ICurrentUser currentUser, TenantDbContextFactory contexts, UserManager<ApplicationUser> users)
        : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var found = await TenantUsers.FindConfinedAccountAsync(
                await currentUser.GetAsync(cancellationToken), contexts, users, request.UserId, cancellationToken);
            if (found.Error is { } error)
            {
                return error;
            }

            var user = found.Value!;
            user.IsDisabled = request.Disabled;
            var updated = await users.UpdateAsync(user);
            if (!updated.Succeeded)
            {
                return Error.Validation(updated.Errors.Select(e => e.Description));
            }

            // Ends open sessions on disable; on enable it does no harm (there are none).
            await users.UpdateSecurityStampAsync(user);
            return new Response(user.Id, user.IsDisabled);
        }
    }
}
