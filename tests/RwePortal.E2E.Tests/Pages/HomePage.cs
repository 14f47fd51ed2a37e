using Microsoft.Playwright;

namespace RwePortal.E2E.Tests.Pages;

/// <summary>The home page and the shell around it.</summary>
public sealed class HomePage(IPage page)
{
    public ILocator Title => page.GetByTestId("home-title");

    public ILocator Roles => page.GetByTestId("home-role");

    public ILocator Tenant => page.GetByTestId("home-tenant");

    public ILocator NextSteps => page.GetByTestId("next-step");

    public ILocator AdminNavigation => page.GetByTestId("nav-group-admin");

    /// <summary>The current tenant shown as a chip (users of one tenant).</summary>
    public ILocator TenantChip => page.GetByTestId("tenant-current");

    /// <summary>The tenant menu (users of several tenants, platform Admins).</summary>
    public ILocator TenantSwitcher => page.GetByTestId("tenant-switcher");

    public ILocator TenantOptions => page.Locator("[data-testid^=tenant-option-]");

    /// <summary>Waits until the circuit runs the shell, so that clicks on its buttons are handled.</summary>
    public Task WaitUntilInteractiveAsync() =>
        Assertions.Expect(page.GetByTestId("layout")).ToHaveAttributeAsync("data-interactive", "true");
}
