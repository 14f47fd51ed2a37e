using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Identity;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Users;

/// <summary>
/// Gives a person of this tenant a new one-time password (they forgot theirs, or the first one expired): it replaces
/// their password, is valid for 72 hours and must be changed at first sign-in. Their open sessions end within a
/// minute. Only for accounts used in this tenant alone, like every account-wide change.
/// </summary>
public static class IssueTenantUserOneTimePassword
{
    [RequiresPermission(Permission.ManageTenantUsers)]
    public sealed record Command(Guid UserId) : IRequest<Result<Response>>, IAuditTarget
    {
        /// <summary>The person whose password was replaced (never the password).</summary>
        public string AuditTarget => $"user {UserId}";
    }

    /// <summary>The new one-time password, shown once to the administrator (only its hash is stored).</summary>
    public sealed record Response(Guid UserId, string OneTimePassword, DateTimeOffset ExpiresAt);

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
            var oneTimePassword = OneTimePasswords.Issue(user, DateTimeOffset.UtcNow);

            // A reset through Identity's token saves the flags with the password and changes the security stamp.
            var token = await users.GeneratePasswordResetTokenAsync(user);
            var reset = await users.ResetPasswordAsync(user, token, oneTimePassword);
            if (!reset.Succeeded)
            {
                return Error.Validation(reset.Errors.Select(e => e.Description));
            }

            await users.ResetAccessFailedCountAsync(user);
            await users.SetLockoutEndDateAsync(user, null);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"IssueTenantUserOneTimePassword: {TenantUsers.AuditTarget(user)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = null,
                    ["after"] = new { one_time_password = "issued", expires_at = user.OneTimePasswordExpiresAt },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(user.Id, oneTimePassword, user.OneTimePasswordExpiresAt!.Value);
        }
    }
}
