using Microsoft.Playwright;

namespace RwePortal.E2E.Tests.Pages;

/// <summary>Account/Manage/ChangePassword, where a one-time password must be replaced before anything else opens.</summary>
public sealed class ChangePasswordPage(IPage page)
{
    public ILocator MustChange => page.GetByTestId("password-must-change");

    public async Task ChangeAsync(string current, string next)
    {
        await page.GetByTestId("password-old").FillAsync(current);
        await page.GetByTestId("password-new").FillAsync(next);
        await page.GetByTestId("password-confirm").FillAsync(next);
        await page.GetByTestId("password-submit").ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }
}
