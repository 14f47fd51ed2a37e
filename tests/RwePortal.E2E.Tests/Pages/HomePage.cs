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
}
