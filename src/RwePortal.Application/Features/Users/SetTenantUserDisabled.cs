using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Identity;
using RwePortal.Application.Audit;
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

    internal sealed class Handler(ICurrentUser currentUser, AppDbContext db, UserManager<ApplicationUser> users, IAuditTrail audit)
        : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var found = await TenantUsers.FindConfinedAccountAsync(await currentUser.GetAsync(cancellationToken), db, request.UserId, cancellationToken);
            if (found.Error is { } error)
            {
                return error;
            }

            var user = found.Value!;
            var before = user.IsDisabled;
            user.IsDisabled = request.Disabled;
            var updated = await users.UpdateAsync(user);
            if (!updated.Succeeded)
            {
                return Error.Validation(updated.Errors.Select(e => e.Description));
            }

            // Ends open sessions on disable; on enable it does no harm (there are none).
            await users.UpdateSecurityStampAsync(user);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"SetTenantUserDisabled: {TenantUsers.AuditTarget(user)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { disabled = before },
                    ["after"] = new { disabled = user.IsDisabled },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(user.Id, user.IsDisabled);
        }
    }
}
