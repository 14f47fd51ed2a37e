using RwePortal.Application.Data;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Features.Home;

[Collection(PortalCollection.Name)]
public sealed class ThemeTests(PortalFixture portal)
{
    [Fact]
    public async Task The_theme_toggle_switches_the_portal_to_dark_and_back()
    {
        var page = await portal.NewPageAsync();
        var login = new LoginPage(page);
        await login.OpenAsync();
        await login.SignInAsync(DemoSeeder.Email(DemoSeeder.Tenants[0], RwePortal.Application.Security.TenantRole.Analyst), DemoSeeder.Password);
        var home = new HomePage(page);
        await Expect(home.Title).ToBeVisibleAsync();
        await home.WaitUntilInteractiveAsync();
        var light = await BackgroundOf(page);

        await page.GetByTestId("theme-toggle").ClickAsync();
        await Expect(page.Locator("body")).Not.ToHaveCSSAsync("background-color", light);
        await PortalFixture.ScreenshotAsync(page, "dark-theme");

        await page.GetByTestId("theme-toggle").ClickAsync();
        await Expect(page.Locator("body")).ToHaveCSSAsync("background-color", light);
        await page.Context.CloseAsync();
    }

    private static Task<string> BackgroundOf(Microsoft.Playwright.IPage page) =>
        page.Locator("body").EvaluateAsync<string>("element => getComputedStyle(element).backgroundColor");
}
