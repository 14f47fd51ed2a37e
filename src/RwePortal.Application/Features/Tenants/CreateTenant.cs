using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Users;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Features.Tenants;

/// <summary>
/// Creates a tenant with its first TenantAdmin (who then adds everyone else). A new admin account gets a one-time
/// password, shown once; an existing account gets the TenantAdmin role in the new tenant. Either must enrol a
/// second factor before using the administration pages.
/// </summary>
public static class CreateTenant
{
    [RequiresPermission(Permission.ManageTenants)]
    public sealed record Command(string Name, string Slug, string AdminEmail, string AdminDisplayName) : IRequest<Result<Response>>;

    /// <summary>The new tenant and its admin; <c>OneTimePassword</c> is set only when the admin's account was created.</summary>
    public sealed record Response(Guid TenantId, Guid AdminUserId, bool CreatedAccount, string? OneTimePassword);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Name).NotEmpty().MaximumLength(200);
            RuleFor(c => c.Slug).NotEmpty().Matches("^[a-z0-9][a-z0-9-]{1,62}$")
                .WithMessage("The short name takes 2 to 63 lowercase letters, digits and hyphens.");
            RuleFor(c => c.AdminEmail).NotEmpty().EmailAddress().MaximumLength(256);
            RuleFor(c => c.AdminDisplayName).NotEmpty().MaximumLength(200);
        }
    }

    internal sealed class Handler(AppDbContext db, UserManager<ApplicationUser> users, IAuditTrail audit) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            // The account, the tenant, its first membership and the audit event commit together: a failure leaves no
            // orphan account behind.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var name = request.Name.Trim();
            if (await db.Tenants.AnyAsync(t => t.Name == name || t.Slug == request.Slug, cancellationToken))
            {
                return new Error("Tenant.Exists", "A tenant with this name or short name exists already.");
            }

            var tenant = new Tenant { Name = name, Slug = request.Slug };
            db.Tenants.Add(tenant);
            await db.SaveChangesAsync(cancellationToken);

            var email = request.AdminEmail.Trim();
            var admin = await users.FindByEmailAsync(email);
            string? oneTimePassword = null;
            if (admin is null)
            {
                oneTimePassword = TenantUsers.NewOneTimePassword();
                admin = new ApplicationUser
                {
                    UserName = email,
                    Email = email,
                    EmailConfirmed = true,
                    DisplayName = request.AdminDisplayName.Trim(),
                    CurrentTenantId = tenant.Id,
                };
                OneTimePasswords.Start(admin, DateTimeOffset.UtcNow);
                var created = await users.CreateAsync(admin, oneTimePassword);
                if (!created.Succeeded)
                {
                    return Error.Validation(created.Errors.Select(e => e.Description));
                }
            }

            // The membership is the new tenant's row: row-level security is pointed at it for this transaction.
            await db.ActInTenantAsync(tenant.Id, cancellationToken);
            db.TenantMemberships.Add(new TenantMembership { TenantId = tenant.Id, UserId = admin.Id, Role = TenantRole.TenantAdmin });
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"CreateTenant: tenant {tenant.Slug} ({tenant.Id})", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = null,
                    ["after"] = new { name = tenant.Name, slug = tenant.Slug, first_admin = email, account_created = oneTimePassword is not null },
                }),
                tenant.Id,
                cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(tenant.Id, admin.Id, oneTimePassword is not null, oneTimePassword);
        }
    }
}
