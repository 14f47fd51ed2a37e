using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Features.Account;

[Collection(PortalCollection.Name)]
public sealed class SignInTests(PortalFixture portal)
{
    public static TheoryData<string, string, string> DemoAccounts()
    {
        var data = new TheoryData<string, string, string>
        {
            { DemoSeeder.PlatformAdminEmail, "Admin", "admin" },
        };
        foreach (var tenant in DemoSeeder.Tenants)
        {
            foreach (var role in Enum.GetValues<TenantRole>())
            {
                data.Add(DemoSeeder.Email(tenant, role), role.ToString(), $"{tenant.Slug}-{role.ToString().ToLowerInvariant()}");
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DemoAccounts))]
    public async Task Each_demo_user_signs_in_through_the_real_page_and_lands_on_their_home_page(string email, string role, string shot)
    {
        var page = await portal.NewPageAsync();
        var login = new LoginPage(page);
        await login.OpenAsync();

        await login.SignInAsync(email, DemoSeeder.Password);

        var home = new HomePage(page);
        await Expect(home.Title).ToContainTextAsync("Welcome");
        await Expect(home.Roles.First).ToBeVisibleAsync();
        Assert.Contains(role, await home.Roles.AllInnerTextsAsync());
        Assert.True(await home.NextSteps.CountAsync() > 0);
        if (role is "TenantAdmin" or "Admin")
        {
            await Expect(home.AdminNavigation).ToBeVisibleAsync();
        }
        else
        {
            await Expect(home.AdminNavigation).ToHaveCountAsync(0);
        }

        await PortalFixture.ScreenshotAsync(page, $"home-{shot}");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Pages_other_than_sign_in_send_an_anonymous_visitor_to_sign_in()
    {
        var page = await portal.NewPageAsync();

        await page.GotoAsync("/");

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/Account/Login"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused()
    {
        var email = $"lockout-{Guid.NewGuid():N}@acme.test";
        await CreateUserAsync(email);
        var page = await portal.NewPageAsync();
        var login = new LoginPage(page);

        for (var attempt = 1; attempt <= IdentitySetup.MaxFailedSignIns; attempt++)
        {
            await login.OpenAsync();
            await login.SignInAsync(email, $"wrong-password-{attempt}");
            if (attempt < IdentitySetup.MaxFailedSignIns)
            {
                await Expect(login.Error).ToContainTextAsync("Invalid email or password");
            }
        }

        await Expect(page.GetByTestId("lockout-title")).ToBeVisibleAsync();
        await PortalFixture.ScreenshotAsync(page, "lockout");

        await login.OpenAsync();
        await login.SignInAsync(email, DemoSeeder.Password);
        await Expect(page.GetByTestId("lockout-title")).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_admin_sign_in_records_the_password_step_and_the_second_factor_in_the_audit_trail()
    {
        var page = await portal.NewPageAsync();
        var login = new LoginPage(page);
        await login.OpenAsync();

        await login.SignInAsync(DemoSeeder.PlatformAdminEmail, DemoSeeder.Password);
        await Expect(new HomePage(page).Title).ToBeVisibleAsync();

        await using var connection = new Npgsql.NpgsqlConnection(portal.Database.OwnerConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            """
            SELECT outcome FROM app.audit_event
            WHERE user_email = @email AND event_type = 'SignIn' ORDER BY id DESC LIMIT 2
            """, connection);
        command.Parameters.AddWithValue("email", DemoSeeder.PlatformAdminEmail);
        var outcomes = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                outcomes.Add(reader.GetString(0));
            }
        }

        Assert.Equal(["Success", "SecondFactorRequired"], outcomes);
        await page.Context.CloseAsync();
    }

    private async Task CreateUserAsync(string email)
    {
        var services = new ServiceCollection().AddLogging().AddApplication(portal.Database.OwnerConnectionString);
        services.AddRweIdentityCore();
        await using var provider = services.BuildServiceProvider();
        var users = provider.GetRequiredService<UserManager<ApplicationUser>>();
        var result = await users.CreateAsync(new ApplicationUser { UserName = email, Email = email, DisplayName = "Lockout probe" }, DemoSeeder.Password);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Description)));
    }
}
