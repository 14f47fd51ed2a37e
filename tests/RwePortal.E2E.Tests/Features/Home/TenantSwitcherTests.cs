using RwePortal.Application.Data;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Features.Home;

[Collection(PortalCollection.Name)]
public sealed class TenantSwitcherTests(PortalFixture portal)
{
    [Fact]
    public async Task The_platform_admin_switches_tenant_and_the_home_page_follows()
    {
        var page = await portal.NewPageAsync();
        var login = new LoginPage(page);
        await login.OpenAsync();
        await login.SignInAsync(DemoSeeder.PlatformAdminEmail, DemoSeeder.Password);
        var home = new HomePage(page);
        await Expect(home.Tenant).ToHaveTextAsync("Acme Pharma");
        await home.WaitUntilInteractiveAsync();

        await page.GetByTestId("tenant-switcher").ClickAsync();
        await page.GetByTestId("tenant-option-Northwind Hospital").ClickAsync();

        await Expect(home.Tenant).ToHaveTextAsync("Northwind Hospital");
        await PortalFixture.ScreenshotAsync(page, "tenant-switched");
        await page.Context.CloseAsync();
    }
}
