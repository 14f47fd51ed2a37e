using System.Text.RegularExpressions;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Features.Users;

[Collection(PortalCollection.Name)]
public sealed partial class TenantUsersTests(PortalFixture portal)
{
    private static readonly string AcmeAdmin = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.TenantAdmin);

    [GeneratedRegex("/Account/Login")]
    private static partial Regex SignInUrl();

    [GeneratedRegex("/Account/AccessDenied")]
    private static partial Regex AccessDeniedUrl();

    [GeneratedRegex("/Account/Manage/EnableAuthenticator")]
    private static partial Regex EnableAuthenticatorUrl();

    [GeneratedRegex("/admin/users")]
    private static partial Regex UsersUrl();

    [Fact]
    public async Task A_tenant_admin_adds_an_analyst_who_then_signs_in_and_sees_only_their_tenant()
    {
        var email = $"new-analyst-{Guid.NewGuid():N}"[..20] + "@acme.test";
        var admin = await portal.NewPageAsync();
        await new LoginPage(admin).OpenAsync();
        await new LoginPage(admin).SignInAsync(AcmeAdmin, DemoSeeder.Password);
        var users = new UsersAdminPage(admin);
        await users.OpenAsync();
        await Expect(users.Row(AcmeAdmin)).ToBeVisibleAsync();
        await Expect(users.Emails.Filter(new() { HasTextRegex = new Regex("@northwind\\.test$") })).ToHaveCountAsync(0);

        var password = await users.AddUserAsync(email, "New Analyst", "Analyst");
        await PortalFixture.ScreenshotAsync(admin, "users-one-time-password");
        await users.CloseAddDialogAsync();
        await users.SearchAsync(email);
        await Expect(users.Row(email).GetByTestId("user-role")).ToHaveTextAsync("Analyst");
        await PortalFixture.ScreenshotAsync(admin, "users-admin");
        await admin.Context.CloseAsync();

        var analyst = await portal.NewPageAsync();
        await new LoginPage(analyst).OpenAsync();
        await new LoginPage(analyst).SignInAsync(email, password);
        // A one-time password must be replaced first.
        var change = new ChangePasswordPage(analyst);
        await Expect(change.MustChange).ToBeVisibleAsync();
        await change.ChangeAsync(password, "Own!Passw0rd-" + Guid.NewGuid().ToString("N")[..6]);
        var home = new HomePage(analyst);
        await Expect(home.Title).ToContainTextAsync("New Analyst");
        Assert.Equal(1L, await portal.OwnerScalarAsync<long>(
            $"SELECT count(*) FROM app.audit_event WHERE event_type = 'Command' AND target = 'own account' AND user_email = '{email}' AND details->>'action' = 'ChangePassword' AND tenant_id IS NOT NULL"));
        await Expect(home.TenantChip).ToHaveTextAsync("Acme Pharma");
        await Expect(home.TenantSwitcher).ToHaveCountAsync(0);
        await Expect(home.TenantOptions).ToHaveCountAsync(0);
        await Expect(home.AdminNavigation).ToHaveCountAsync(0);
        await PortalFixture.ScreenshotAsync(analyst, "new-analyst-home");

        await analyst.GotoAsync("/admin/users");
        await Expect(analyst).ToHaveURLAsync(AccessDeniedUrl());
        await Expect(analyst.GetByTestId("users-title")).ToHaveCountAsync(0);
        await PortalFixture.ScreenshotAsync(analyst, "new-analyst-admin-users-denied");
        await analyst.Context.CloseAsync();
    }

    [Fact]
    public async Task A_disabled_users_open_page_loses_the_session_within_a_minute()
    {
        var email = $"to-disable-{Guid.NewGuid():N}"[..19] + "@acme.test";
        await portal.CreateUserAsync(email, "acme", TenantRole.Analyst);
        var user = await portal.NewPageAsync();
        await new LoginPage(user).OpenAsync();
        await new LoginPage(user).SignInAsync(email, DemoSeeder.Password);
        await Expect(new HomePage(user).Title).ToBeVisibleAsync();

        var admin = await portal.NewPageAsync();
        await new LoginPage(admin).OpenAsync();
        await new LoginPage(admin).SignInAsync(AcmeAdmin, DemoSeeder.Password);
        var users = new UsersAdminPage(admin);
        await users.OpenAsync();
        await users.SearchAsync(email);
        await users.DisableAsync(email);
        await PortalFixture.ScreenshotAsync(admin, "users-disabled");
        await admin.Context.CloseAsync();

        // The circuit revalidates every minute: the open page is sent to sign in without anyone touching it.
        await Expect(user).ToHaveURLAsync(SignInUrl(), new() { Timeout = 70_000 });
        await Expect(user.GetByTestId("login-form")).ToBeVisibleAsync();
        await PortalFixture.ScreenshotAsync(user, "disabled-user-signed-out");

        await new LoginPage(user).SignInAsync(email, DemoSeeder.Password);
        await Expect(new LoginPage(user).Error).ToContainTextAsync("disabled");
        await user.Context.CloseAsync();
    }

    [Fact]
    public async Task A_tenant_admin_without_a_second_factor_must_enrol_before_the_users_page_opens()
    {
        var email = $"new-admin-{Guid.NewGuid():N}"[..18] + "@acme.test";
        await portal.CreateUserAsync(email, "acme", TenantRole.TenantAdmin);
        var page = await portal.NewPageAsync();
        await page.GotoAsync("/admin/users");
        await Expect(page).ToHaveURLAsync(SignInUrl());

        await new LoginPage(page).SignInAsync(email, DemoSeeder.Password);

        await Expect(page).ToHaveURLAsync(EnableAuthenticatorUrl());
        var enrol = new EnableAuthenticatorPage(page);
        await Expect(enrol.Required).ToBeVisibleAsync();
        await PortalFixture.ScreenshotAsync(page, "admin-must-enrol");
        await enrol.EnrolAsync();
        await Expect(enrol.Continue).ToBeVisibleAsync();
        await enrol.Continue.ClickAsync();

        await Expect(page).ToHaveURLAsync(UsersUrl());
        await Expect(new UsersAdminPage(page).Title).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }
}
