using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Data;

/// <summary>
/// The demo: two tenants, one user per tenant role in each, and a platform Admin. Once the warehouse is loaded, the
/// hospital (Northwind) is custodian of the demo sources and uses them for every purpose; the pharma company (Acme)
/// is granted them for research purposes only; Eunomia (a public synthetic sample) is under a waiver for research
/// and the synthetic source opt-in for every purpose. Running it again changes nothing a custodian has changed
/// (passwords are reset to the demo password, lockouts cleared). Administrators must sign in with a
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

    /// <summary>The tenant that holds the demo sources' consent.</summary>
    public const string CustodianSlug = "northwind";

    /// <summary>The sources `./rwe demo` loads (scripts/demo-warehouse.sh).</summary>
    public static readonly IReadOnlyList<string> DemoSources = ["synthetic", "eunomia"];

    /// <summary>The reference of Eunomia's research waiver.</summary>
    public const string EunomiaWaiverReference = "public synthetic sample";

    /// <summary>The purposes a demo tenant is granted registered sources for: the custodian all, the pharma company research ones.</summary>
    public static IReadOnlyList<string> GrantedPurposes(string tenantSlug) => tenantSlug == CustodianSlug
        ? DataPurposes.All
        : [DataPurposes.Research, DataPurposes.GenomicResearch, DataPurposes.WearableResearch, DataPurposes.CommercialResearch];

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
        await SetUpDemoConsentAsync(cancellationToken);
    }

    /// <summary>Grants every registered data source to each demo tenant (the demo's warehouse is shared), for <see cref="GrantedPurposes"/>.</summary>
    private async Task GrantRegisteredSourcesAsync(Guid grantedBy, CancellationToken cancellationToken)
    {
        List<(Guid Id, string Slug)> tenants;
        List<Guid> sourceIds;
        await using (var db = await contexts.CreateDbContextAsync(cancellationToken))
        {
            var slugs = Tenants.Select(t => t.Slug).ToList();
            tenants = (await db.Tenants.Where(t => slugs.Contains(t.Slug)).Select(t => new { t.Id, t.Slug }).ToListAsync(cancellationToken))
                .Select(t => (t.Id, t.Slug)).ToList();
            sourceIds = await db.DataSources.Select(s => s.Id).ToListAsync(cancellationToken);
        }

        foreach (var (tenantId, slug) in tenants)
        {
            // Each tenant's grants in a context bound to that tenant, as row-level security expects.
            await using var db = await BoundAsync(tenantId, cancellationToken);
            foreach (var sourceId in sourceIds)
            {
                if (!await db.DataSourceGrants.AnyAsync(g => g.DataSourceId == sourceId, cancellationToken))
                {
                    db.DataSourceGrants.Add(new TenantDataSourceGrant
                    {
                        TenantId = tenantId, DataSourceId = sourceId, Purposes = [.. GrantedPurposes(slug)], GrantedBy = grantedBy,
                    });
                }
            }

            await db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Makes Northwind custodian of the demo sources that have none, and sets their demo consent models where none was
    /// set: Eunomia under a waiver for research, the synthetic source opt-in for every purpose. Owner role (the CLI).
    /// </summary>
    private async Task SetUpDemoConsentAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var demoSources = DemoSources.ToList();
        var present = await db.DataSources.Where(s => demoSources.Contains(s.Name))
            .Select(s => new { s.Name, s.CustodianTenantId })
            .ToListAsync(cancellationToken);
        if (present.Count == 0)
        {
            return;
        }

        var custodianId = await db.Tenants.Where(t => t.Slug == CustodianSlug).Select(t => t.Id).SingleAsync(cancellationToken);
        var unheld = present.Where(s => s.CustodianTenantId is null).Select(s => s.Name).ToList();
        if (unheld.Count > 0)
        {
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"UPDATE app.data_sources SET custodian_tenant_id = {custodianId} WHERE name = ANY({unheld}) AND custodian_tenant_id IS NULL",
                cancellationToken);
        }

        var models = new List<(string Source, string Purpose, string Model, string? Reference)>();
        if (present.Any(s => s.Name == "eunomia"))
        {
            models.Add(("eunomia", DataPurposes.Research, "waiver", EunomiaWaiverReference));
        }

        if (present.Any(s => s.Name == "synthetic"))
        {
            models.AddRange(DataPurposes.All.Select(p => ("synthetic", p, "opt_in", (string?)null)));
        }

        foreach (var (source, purpose, model, reference) in models)
        {
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"""
                INSERT INTO gov.consent_model (source, purpose, model, reference, set_by)
                SELECT CAST({source} AS text), CAST({purpose} AS text), CAST({model} AS text), CAST({reference} AS text), 'demo seed'
                WHERE NOT EXISTS (SELECT 1 FROM gov.consent_model m WHERE m.source = {source} AND m.purpose = {purpose})
                """,
                cancellationToken);
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
