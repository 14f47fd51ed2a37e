using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Users;
using RwePortal.Application.Security;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Features.Account;

/// <summary>The account rules tried in the real portal: reset second factor, one-time passwords, hostile return URLs.</summary>
[Collection(PortalCollection.Name)]
public sealed partial class AccountHardeningTests(PortalFixture portal)
{
    private const string NewPassword = "My!OwnPassw0rd-2026";

    [GeneratedRegex("/Account/Manage/EnableAuthenticator")]
    private static partial Regex EnableAuthenticatorUrl();

    [GeneratedRegex("/Account/Manage/ChangePassword")]
    private static partial Regex ChangePasswordUrl();

    [GeneratedRegex("/admin/users")]
    private static partial Regex UsersUrl();

    [Fact]
    public async Task An_admin_who_resets_their_own_authenticator_cannot_open_an_admin_page_until_they_enrol_again()
    {
        var email = $"reset-{Guid.NewGuid():N}"[..14] + "@acme.test";
        await portal.CreateUserAsync(email, "acme", TenantRole.TenantAdmin);
        var page = await portal.NewPageAsync();
        await page.GotoAsync("/admin/users");
        await new LoginPage(page).SignInAsync(email, DemoSeeder.Password);
        var enrol = new EnableAuthenticatorPage(page);
        await enrol.EnrolAsync();
        await enrol.Continue.ClickAsync();
        await Expect(page).ToHaveURLAsync(UsersUrl());
        await Expect(new UsersAdminPage(page).Title).ToBeVisibleAsync();

        await page.GotoAsync("/Account/Manage/ResetAuthenticator");
        await page.GetByTestId("reset-authenticator-submit").ClickAsync();
        await Expect(page).ToHaveURLAsync(EnableAuthenticatorUrl());

        // The same session, still signed in: the administration pages now send it to enrol.
        await page.GotoAsync("/admin/users");
        await Expect(page).ToHaveURLAsync(EnableAuthenticatorUrl());
        await Expect(enrol.Required).ToBeVisibleAsync();
        await PortalFixture.ScreenshotAsync(page, "admin-reset-must-enrol");

        await enrol.EnrolAsync();
        await Expect(page.Locator(".recovery-code").First).ToBeVisibleAsync();
        await enrol.Continue.ClickAsync();
        await Expect(page).ToHaveURLAsync(UsersUrl());
        await Expect(new UsersAdminPage(page).Title).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_one_time_password_opens_only_the_change_password_page_until_it_is_changed()
    {
        var email = $"otp-{Guid.NewGuid():N}"[..12] + "@acme.test";
        await portal.CreateUserAsync(email, "acme", TenantRole.Analyst);
        await MarkOneTimePasswordAsync(email, DateTimeOffset.UtcNow.AddHours(72));
        var page = await portal.NewPageAsync();
        await new LoginPage(page).OpenAsync();

        await new LoginPage(page).SignInAsync(email, DemoSeeder.Password);

        await Expect(page).ToHaveURLAsync(ChangePasswordUrl());
        var change = new ChangePasswordPage(page);
        await Expect(change.MustChange).ToBeVisibleAsync();
        await PortalFixture.ScreenshotAsync(page, "one-time-password-must-change");

        foreach (var path in new[] { "/subgroups", "/Account/Manage/TwoFactorAuthentication", "/" })
        {
            await page.GotoAsync(path);
            await Expect(page).ToHaveURLAsync(ChangePasswordUrl());
        }

        // Endpoints and the interactive circuit's hub answer 403 to this session.
        var switchTenant = await page.Context.APIRequest.PostAsync("/Account/SwitchTenant", new() { MaxRedirects = 0 });
        var hub = await page.Context.APIRequest.PostAsync("/_blazor/negotiate?negotiateVersion=1", new() { MaxRedirects = 0 });
        Assert.Equal(403, switchTenant.Status);
        Assert.Equal(403, hub.Status);

        await change.ChangeAsync(DemoSeeder.Password, DemoSeeder.Password);
        await Expect(page.Locator(".alert-danger, .text-danger").First).ToBeVisibleAsync();
        await Expect(change.MustChange).ToBeVisibleAsync();

        await change.ChangeAsync(DemoSeeder.Password, NewPassword);

        // Back to where the person was going (the last page they asked for), and everything opens again.
        await Expect(new HomePage(page).Title).ToBeVisibleAsync();
        await page.GotoAsync("/Account/Manage/TwoFactorAuthentication");
        await Expect(page).Not.ToHaveURLAsync(ChangePasswordUrl());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_expired_one_time_password_is_refused_with_a_message_that_says_so()
    {
        var email = $"late-{Guid.NewGuid():N}"[..13] + "@acme.test";
        await portal.CreateUserAsync(email, "acme", TenantRole.Analyst);
        await MarkOneTimePasswordAsync(email, DateTimeOffset.UtcNow.AddMinutes(-1));
        var page = await portal.NewPageAsync();
        var login = new LoginPage(page);
        await login.OpenAsync();

        await login.SignInAsync(email, DemoSeeder.Password);

        await Expect(login.Error).ToContainTextAsync("one-time password has expired");
        await Expect(login.Error).ToContainTextAsync("Ask your administrator for a new one");
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new Regex("/Account/Login"));
        await page.Context.CloseAsync();
    }

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("//evil.example/steal")]
    [InlineData("/\\evil.example/steal")]
    [InlineData("https://evil.example/steal")]
    [InlineData("/\t/evil.example")]
    public async Task A_hostile_return_url_on_sign_in_leads_to_the_portals_home_page(string returnUrl)
    {
        var page = await portal.NewPageAsync();
        await page.GotoAsync($"/Account/Login?ReturnUrl={Uri.EscapeDataString(returnUrl)}");

        await new LoginPage(page).SignInAsync("analyst@acme.test", DemoSeeder.Password);

        await Expect(new HomePage(page).Title).ToBeVisibleAsync();
        Assert.StartsWith(portal.BaseUrl + "/", page.Url, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_javascript_return_url_on_enrolment_never_reaches_the_continue_link()
    {
        var email = $"xss-{Guid.NewGuid():N}"[..12] + "@acme.test";
        await portal.CreateUserAsync(email, "acme", TenantRole.TenantAdmin);
        var page = await portal.NewPageAsync();
        await new LoginPage(page).OpenAsync();
        await new LoginPage(page).SignInAsync(email, DemoSeeder.Password);
        await page.GotoAsync($"/Account/Manage/EnableAuthenticator?returnUrl={Uri.EscapeDataString("javascript:alert(document.cookie)")}");

        var enrol = new EnableAuthenticatorPage(page);
        await enrol.EnrolAsync();

        await Expect(enrol.Continue).ToHaveAttributeAsync("href", "/");
        await enrol.Continue.ClickAsync();
        await Expect(new HomePage(page).Title).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    private async Task MarkOneTimePasswordAsync(string email, DateTimeOffset expiresAt)
    {
        var services = new ServiceCollection().AddLogging().AddApplication(portal.Database.OwnerConnectionString);
        services.AddRweIdentityCore();
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = await users.FindByEmailAsync(email) ?? throw new InvalidOperationException($"No user {email}.");
        OneTimePasswords.Start(user, expiresAt - OneTimePasswords.Lifetime);
        var updated = await users.UpdateAsync(user);
        Assert.True(updated.Succeeded);
    }
}
