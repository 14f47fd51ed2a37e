using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Pages;

/// <summary>admin/users: the TenantAdmin's list of the tenant's users and its actions.</summary>
public sealed class UsersAdminPage(IPage page)
{
    public ILocator Title => page.GetByTestId("users-title");

    public ILocator Emails => page.GetByTestId("user-email");

    public async Task OpenAsync()
    {
        await page.GotoAsync("/admin/users");

        // The page is prerendered first: clicks before the circuit runs it would be lost.
        await Expect(Title).ToHaveAttributeAsync("data-interactive", "true");
    }

    /// <summary>The grid row of one user, found by email.</summary>
    public ILocator Row(string email) => page.Locator("tr").Filter(new LocatorFilterOptions { Has = page.GetByTestId("user-email").GetByText(email, new LocatorGetByTextOptions { Exact = true }) });

    public async Task SearchAsync(string text)
    {
        await page.GetByTestId("users-search").FillAsync(text);
        await Expect(Emails).ToHaveCountAsync(1);
    }

    /// <summary>Adds a person with one role; returns the one-time password the dialog shows for a new account.</summary>
    public async Task<string> AddUserAsync(string email, string name, string role)
    {
        await page.GetByTestId("users-add").ClickAsync();
        await page.GetByTestId("add-user-email").FillAsync(email);
        await page.GetByTestId("add-user-name").FillAsync(name);
        foreach (var other in new[] { "Analyst", "StudyLead", "TenantAdmin" })
        {
            var box = page.Locator($"input[data-testid=add-user-role-{other}], [data-testid=add-user-role-{other}] input[type=checkbox]");
            if (await box.IsCheckedAsync() != (other == role))
            {
                await box.ClickAsync();
            }
        }

        await page.GetByTestId("add-user-submit").ClickAsync();
        var password = page.GetByTestId("new-user-password");
        await Expect(password).ToBeVisibleAsync();
        return (await password.InnerTextAsync()).Trim();
    }

    public async Task CloseAddDialogAsync()
    {
        await page.GetByTestId("add-user-done").ClickAsync();
        await Expect(page.GetByTestId("add-user-dialog")).ToHaveCountAsync(0);
    }

    public async Task DisableAsync(string email)
    {
        await Row(email).GetByTestId("user-disable").ClickAsync();
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Disable", Exact = true }).ClickAsync();
        await Expect(Row(email).GetByTestId("user-status")).ToHaveTextAsync("Disabled");
    }
}
