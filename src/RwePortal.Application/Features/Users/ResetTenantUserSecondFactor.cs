using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Identity;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Users;

/// <summary>
/// For a person who lost their authenticator: turns their second factor off, replaces its key and discards their
/// recovery codes, so they enrol again (administrators are made to at their next sign-in, and no administration
/// page opens before). Their open sessions end within a minute.
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
            var before = user.TwoFactorEnabled;
            // Changes the security stamp, which ends the open sessions.
            var reset = await SecondFactor.ResetAsync(users, user);
            if (!reset.Succeeded)
            {
                return Error.Validation(reset.Errors.Select(e => e.Description));
            }

            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"ResetTenantUserSecondFactor: {TenantUsers.AuditTarget(user)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { second_factor = before },
                    ["after"] = new { second_factor = false, authenticator_key = "replaced", recovery_codes = 0 },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(user.Id);
        }
    }
}
