using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Tenants;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Tenants;

/// <summary>The platform Admin's tenant slices through the mediator.</summary>
[Collection(AppCollection.Name)]
public sealed class TenantAdministrationTests(AppFixture fixture) : IAsyncLifetime
{
    public async Task InitializeAsync() => await fixture.SignInAsAsync(DemoSeeder.PlatformAdminEmail);

    public Task DisposeAsync() => Task.CompletedTask;

    private static string Slug() => $"t-{Guid.NewGuid():N}"[..14];

    [Fact]
    public async Task Creating_a_tenant_makes_its_first_admin_with_a_one_time_password()
    {
        var slug = Slug();
        var email = AppFixture.UniqueEmail("first", "new.test");

        var created = (await fixture.SendAsync(new CreateTenant.Command($"Tenant {slug}", slug, email, "First Admin"))).Unwrap();

        Assert.True(created.CreatedAccount);
        await using var scope = fixture.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        Assert.True(await users.CheckPasswordAsync((await users.FindByEmailAsync(email))!, created.OneTimePassword!));
        var admin = await fixture.SignInAsAsync(email);
        Assert.Equal($"Tenant {slug}", admin.TenantName);
        Assert.Equal([TenantRole.TenantAdmin], admin.Roles);
        Assert.True(admin.NeedsSecondFactor);
        Assert.False(admin.Has(Permission.ManageTenantUsers));
    }

    [Fact]
    public async Task An_existing_account_becomes_the_new_tenants_admin_without_a_new_password()
    {
        var slug = Slug();
        var existing = await fixture.FindUserAsync(DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.StudyLead));

        var created = (await fixture.SendAsync(new CreateTenant.Command($"Tenant {slug}", slug, existing.Email!, "ignored"))).Unwrap();

        Assert.Equal(existing.Id, created.AdminUserId);
        Assert.False(created.CreatedAccount);
        Assert.Null(created.OneTimePassword);
    }

    [Fact]
    public async Task A_duplicate_name_or_short_name_is_refused()
    {
        var result = await fixture.SendAsync(new CreateTenant.Command("Acme Pharma", Slug(), AppFixture.UniqueEmail("dup"), "Dup"));
        var bySlug = await fixture.SendAsync(new CreateTenant.Command($"Other {Guid.NewGuid():N}", "acme", AppFixture.UniqueEmail("dup"), "Dup"));
        var badSlug = await fixture.SendAsync(new CreateTenant.Command("Bad", "Not A Slug", AppFixture.UniqueEmail("dup"), "Dup"));

        Assert.Equal("Tenant.Exists", result.Error!.Code);
        Assert.Equal("Tenant.Exists", bySlug.Error!.Code);
        Assert.Equal("Validation.Failed", badSlug.Error!.Code);
    }

    [Fact]
    public async Task The_list_shows_every_tenant_with_members_paged_and_searchable()
    {
        var all = (await fixture.SendAsync(new ListTenants.Query(0, ListTenants.MaxPageSize))).Unwrap();
        var searched = (await fixture.SendAsync(new ListTenants.Query(0, 10, "northw"))).Unwrap();
        var firstPage = (await fixture.SendAsync(new ListTenants.Query(0, 1))).Unwrap();

        Assert.Contains(all.Items, t => t.Slug == "acme" && t.Members == 3);
        Assert.Equal("Northwind Hospital", Assert.Single(searched.Items).Name);
        Assert.Single(firstPage.Items);
        Assert.Equal(all.TotalCount, firstPage.TotalCount);
    }

    [Fact]
    public async Task Deactivating_a_tenant_ends_its_members_sessions_and_sign_in_skips_it()
    {
        var slug = Slug();
        var email = AppFixture.UniqueEmail("member", "new.test");
        var created = (await fixture.SendAsync(new CreateTenant.Command($"Tenant {slug}", slug, email, "Member"))).Unwrap();
        var before = await fixture.FindUserAsync(email);

        var deactivated = (await fixture.SendAsync(new SetTenantActive.Command(created.TenantId, false))).Unwrap();

        Assert.False(deactivated.IsActive);
        Assert.Equal(1, deactivated.SessionsEnded);
        Assert.NotEqual(before.SecurityStamp, (await fixture.FindUserAsync(email)).SecurityStamp);
        var signedIn = await fixture.SignInAsAsync(email);
        Assert.Null(signedIn.TenantId);
        Assert.Empty(signedIn.Roles);

        await fixture.SignInAsAsync(DemoSeeder.PlatformAdminEmail);
        var reactivated = (await fixture.SendAsync(new SetTenantActive.Command(created.TenantId, true))).Unwrap();
        Assert.True(reactivated.IsActive);
        Assert.Equal($"Tenant {slug}", (await fixture.SignInAsAsync(email)).TenantName);
    }

    [Fact]
    public async Task An_unknown_tenant_id_is_not_found()
    {
        var result = await fixture.SendAsync(new SetTenantActive.Command(Guid.NewGuid(), false));

        Assert.Equal("Tenant.NotFound", result.Error!.Code);
    }

    [Theory]
    [InlineData("tenantadmin@acme.test")]
    [InlineData("analyst@northwind.test")]
    public async Task Tenant_users_are_refused(string email)
    {
        await fixture.SignInAsAsync(email);
        var acme = await fixture.TenantIdAsync("acme");

        var list = await fixture.SendAsync(new ListTenants.Query(0, 10));
        var create = await fixture.SendAsync(new CreateTenant.Command("Sneaky", Slug(), AppFixture.UniqueEmail("sneaky"), "Sneaky"));
        var deactivate = await fixture.SendAsync(new SetTenantActive.Command(acme, false));

        Assert.Equal("Auth.Forbidden", list.Error!.Code);
        Assert.Equal("Auth.Forbidden", create.Error!.Code);
        Assert.Equal("Auth.Forbidden", deactivate.Error!.Code);
        await using var db = await fixture.CreateDbContextAsync();
        Assert.True(await db.Tenants.Where(t => t.Id == acme).Select(t => t.IsActive).SingleAsync());
    }

    [Fact]
    public async Task The_platform_admin_signed_in_without_a_second_factor_is_refused()
    {
        await fixture.SignInAsAsync(DemoSeeder.PlatformAdminEmail, secondFactor: false);

        var result = await fixture.SendAsync(new ListTenants.Query(0, 10));

        Assert.Equal("Auth.Forbidden", result.Error!.Code);
    }

    [Fact]
    public async Task Only_a_platform_admin_gets_a_context_for_another_tenant()
    {
        var user = await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.TenantAdmin));
        var northwind = await fixture.TenantIdAsync("northwind");
        await using var scope = fixture.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Bind(user);
        var factory = scope.ServiceProvider.GetRequiredService<TenantDbContextFactory>();

        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => factory.CreateForTenantAsync(northwind, CancellationToken.None));
        await using var own = await factory.CreateForTenantAsync(user.TenantId!.Value, CancellationToken.None);
        Assert.Equal(user.TenantId, own.Scope.TenantId);
    }

    [Fact]
    public async Task A_failure_after_the_account_is_created_leaves_neither_account_nor_tenant()
    {
        var slug = Slug();
        var email = AppFixture.UniqueEmail("orphan", "new.test");
        // The membership insert fails for this one tenant (as a constraint or a crash would): everything must roll back.
        await fixture.OwnerSqlAsync($"""
            CREATE FUNCTION app.test_refuse_{slug.Replace('-', '_')}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM app.tenants t WHERE t.id = NEW.tenant_id AND t.slug = '{slug}') THEN
                    RAISE EXCEPTION 'refused for the test';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_refuse_{slug.Replace('-', '_')} BEFORE INSERT ON app.tenant_memberships
                FOR EACH ROW EXECUTE FUNCTION app.test_refuse_{slug.Replace('-', '_')}();
            """);
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => fixture.SendAsync(new CreateTenant.Command($"Tenant {slug}", slug, email, "Orphan Admin")));
        }
        finally
        {
            await fixture.OwnerSqlAsync($"DROP TRIGGER test_refuse_{slug.Replace('-', '_')} ON app.tenant_memberships; DROP FUNCTION app.test_refuse_{slug.Replace('-', '_')}();");
        }

        var normalized = email.ToUpperInvariant();
        await using var db = await fixture.CreateDbContextAsync();
        Assert.False(await db.Users.AnyAsync(u => u.NormalizedEmail == normalized));
        Assert.False(await db.Tenants.AnyAsync(t => t.Slug == slug));
    }

    [Fact]
    public async Task Creating_a_tenant_is_audited_under_the_new_tenant_with_its_target()
    {
        var slug = Slug();
        var email = AppFixture.UniqueEmail("first", "new.test");

        var created = (await fixture.SendAsync(new CreateTenant.Command($"Tenant {slug}", slug, email, "First Admin"))).Unwrap();

        var (tenantId, target, details) = await fixture.OwnerSqlRowAsync<(Guid, string, string)>(
            "SELECT tenant_id, target, details::text FROM app.audit_event WHERE target LIKE @like",
            new { like = $"CreateTenant: tenant {slug}%" });
        Assert.Equal(created.TenantId, tenantId);
        Assert.Contains(created.TenantId.ToString(), target);
        Assert.Contains(email, details);
    }
}
