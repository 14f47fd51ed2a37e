using Microsoft.Playwright;

namespace RwePortal.E2E.Tests.Pages;

/// <summary>The sign-in page, by its stable test ids.</summary>
public sealed class LoginPage(IPage page)
{
    public async Task OpenAsync() => await page.GotoAsync("/Account/Login");

    public async Task SignInAsync(string email, string password)
    {
        await page.GetByTestId("login-email").FillAsync(email);
        await page.GetByTestId("login-password").FillAsync(password);
        await page.GetByTestId("login-submit").ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    public ILocator Error => page.Locator(".alert-danger, .rwe-error");
}
