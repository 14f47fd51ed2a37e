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
/// Adds a person to the current tenant with roles. A new email creates the account with a one-time password that
/// the response carries once (only its hash is stored), valid for 72 hours and to be changed at first sign-in; an
/// existing account gets a membership here, and keeps its password and its roles elsewhere.
/// </summary>
public static class AddTenantUser
{
    [RequiresPermission(Permission.ManageTenantUsers)]
    public sealed record Command(string Email, string DisplayName, IReadOnlyList<TenantRole> Roles) : IRequest<Result<Response>>;

    /// <summary>
    /// The person added. <c>OneTimePassword</c> is the new account's first password, to hand over out of band; null
    /// when the account existed.
    /// </summary>
    public sealed record Response(Guid UserId, bool CreatedAccount, string? OneTimePassword);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Email).NotEmpty().EmailAddress().MaximumLength(256);
            RuleFor(c => c.DisplayName).NotEmpty().MaximumLength(200);
            RuleFor(c => c.Roles).NotEmpty().WithMessage("Choose at least one role.");
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

            // The account, its memberships and the audit event commit together, or none of them does.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var email = request.Email.Trim();
            var user = await users.FindByEmailAsync(email);
            string? oneTimePassword = null;
            if (user is null)
            {
                user = new ApplicationUser
                {
                    UserName = email,
                    Email = email,
                    EmailConfirmed = true,
                    DisplayName = request.DisplayName.Trim(),
                    CurrentTenantId = tenantId,
                };
                oneTimePassword = OneTimePasswords.Issue(user, DateTimeOffset.UtcNow);
                var created = await users.CreateAsync(user, oneTimePassword);
                if (!created.Succeeded)
                {
                    return Error.Validation(created.Errors.Select(e => e.Description));
                }
            }
            else if (await db.TenantMemberships.AnyAsync(m => m.UserId == user.Id && m.TenantId == tenantId, cancellationToken))
            {
                return new Error("User.AlreadyMember", $"{email} is already a member of this tenant: change their roles instead.");
            }

            var roles = request.Roles.Distinct().Order().ToList();
            db.TenantMemberships.AddRange(roles.Select(role => new TenantMembership { TenantId = tenantId, UserId = user.Id, Role = role }));
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"AddTenantUser: {TenantUsers.AuditTarget(user)}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { member = false },
                    ["after"] = new { member = true, roles = roles.Select(r => r.ToString()) },
                    ["account_created"] = oneTimePassword is not null,
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(user.Id, oneTimePassword is not null, oneTimePassword);
        }
    }
}
