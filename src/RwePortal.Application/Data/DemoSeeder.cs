using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Data;

/// <summary>
/// The demo: two tenants, one user per tenant role in each, and a platform Admin. Running it again changes
/// nothing (passwords are reset to the demo password, lockouts cleared). Administrators must sign in with a
/// second factor, so the demo's administrators (platform Admin and each TenantAdmin) get TOTP turned on with the
/// published <see cref="AuthenticatorKey"/>: demo data only, like the demo password.
/// </summary>
public sealed class DemoSeeder(
    UserManager<ApplicationUser> users,
    IUserStore<ApplicationUser> store,
    IDbContextFactory<AppDbContext> contexts)
{
    public const string Password = "Demo!Passw0rd";

    /// <summary>The demo administrators' TOTP secret (base32), to add to an authenticator app; never use outside the demo.</summary>
    public const string AuthenticatorKey = "RWEPORTALDEMOTOTPSECRET2345672AB";

    public static readonly IReadOnlyList<DemoTenant> Tenants =
    [
        new("acme", "Acme Pharma", "acme.test"),
        new("northwind", "Northwind Hospital", "northwind.test"),
    ];

    public const string PlatformAdminEmail = "admin@rweportal.test";

    public static string Email(DemoTenant tenant, TenantRole role) => $"{role.ToString().ToLowerInvariant()}@{tenant.Domain}";

    /// <summary>Seeds the database behind <paramref name="connectionString"/> with services of its own (CLI, test hosts).</summary>
    public static async Task RunAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var services = new ServiceCollection().AddLogging().AddApplication(connectionString);
        services.AddRweIdentityCore();
        services.AddScoped<DemoSeeder>();
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DemoSeeder>().SeedAsync(cancellationToken);
    }

    public async Task SeedAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var firstTenantId = Guid.Empty;
        foreach (var demo in Tenants)
        {
            var tenant = await db.Tenants.SingleOrDefaultAsync(t => t.Slug == demo.Slug, cancellationToken);
            if (tenant is null)
            {
                tenant = new Tenant { Name = demo.Name, Slug = demo.Slug };
                db.Tenants.Add(tenant);
                await db.SaveChangesAsync(cancellationToken);
            }

            if (firstTenantId == Guid.Empty)
            {
                firstTenantId = tenant.Id;
            }

            foreach (var role in Enum.GetValues<TenantRole>())
            {
                var user = await EnsureUserAsync(Email(demo, role), $"{role} ({demo.Name})", isPlatformAdmin: false, tenant.Id);
                if (role == TenantRole.TenantAdmin)
                {
                    await EnableDemoAuthenticatorAsync(user, cancellationToken);
                }

                // Memberships are the tenant's rows (row-level security): written in a context bound to it.
                await using var tenantDb = await BoundAsync(tenant.Id, cancellationToken);
                if (!await tenantDb.TenantMemberships.AnyAsync(m => m.UserId == user.Id && m.Role == role, cancellationToken))
                {
                    tenantDb.TenantMemberships.Add(new TenantMembership { TenantId = tenant.Id, UserId = user.Id, Role = role });
                    await tenantDb.SaveChangesAsync(cancellationToken);
                }
            }
        }

        var admin = await EnsureUserAsync(PlatformAdminEmail, "Platform Admin", isPlatformAdmin: true, firstTenantId);
        await EnableDemoAuthenticatorAsync(admin, cancellationToken);
        await GrantRegisteredSourcesAsync(admin.Id, cancellationToken);
    }

    /// <summary>Grants every registered data source to each demo tenant for every purpose (the demo's warehouse is shared).</summary>
    private async Task GrantRegisteredSourcesAsync(Guid grantedBy, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var slugs = Tenants.Select(t => t.Slug).ToList();
        var tenantIds = await db.Tenants.Where(t => slugs.Contains(t.Slug)).Select(t => t.Id).ToListAsync(cancellationToken);
        var sourceIds = await db.DataSources.Select(s => s.Id).ToListAsync(cancellationToken);
        foreach (var tenantId in tenantIds)
        {
            await using var tenantDb = await BoundAsync(tenantId, cancellationToken);
            foreach (var sourceId in sourceIds)
            {
                if (!await tenantDb.DataSourceGrants.AnyAsync(g => g.DataSourceId == sourceId, cancellationToken))
                {
                    tenantDb.DataSourceGrants.Add(new TenantDataSourceGrant
                    {
                        TenantId = tenantId, DataSourceId = sourceId, Purposes = [.. DataPurposes.All], GrantedBy = grantedBy,
                    });
                }
            }

            await tenantDb.SaveChangesAsync(cancellationToken);
        }
    }

    private async Task<AppDbContext> BoundAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var context = await contexts.CreateDbContextAsync(cancellationToken);
        context.BindTo(TenantScope.For(tenantId));
        return context;
    }

    private async Task EnableDemoAuthenticatorAsync(ApplicationUser user, CancellationToken cancellationToken)
    {
        if (store is not IUserAuthenticatorKeyStore<ApplicationUser> keys)
        {
            throw new InvalidOperationException("The user store keeps no authenticator keys.");
        }

        await keys.SetAuthenticatorKeyAsync(user, AuthenticatorKey, cancellationToken);
        Check(await users.SetTwoFactorEnabledAsync(user, true), user.Email!);
    }

    private async Task<ApplicationUser> EnsureUserAsync(string email, string displayName, bool isPlatformAdmin, Guid tenantId)
    {
        var user = await users.FindByEmailAsync(email);
        if (user is null)
        {
            user = new ApplicationUser
            {
                UserName = email,
                Email = email,
                EmailConfirmed = true,
                DisplayName = displayName,
                IsPlatformAdmin = isPlatformAdmin,
                CurrentTenantId = tenantId,
            };
            Check(await users.CreateAsync(user, Password), email);
            return user;
        }

        user.IsDisabled = false;
        user.IsPlatformAdmin = isPlatformAdmin;
        Check(await users.UpdateAsync(user), email);
        Check(await users.SetLockoutEndDateAsync(user, null), email);
        Check(await users.ResetAccessFailedCountAsync(user), email);
        Check(await users.RemovePasswordAsync(user), email);
        Check(await users.AddPasswordAsync(user, Password), email);
        return user;
    }

    private static void Check(IdentityResult result, string email)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                $"Could not seed {email}: {string.Join("; ", result.Errors.Select(e => e.Description))}");
        }
    }
}

public sealed record DemoTenant(string Slug, string Name, string Domain);
