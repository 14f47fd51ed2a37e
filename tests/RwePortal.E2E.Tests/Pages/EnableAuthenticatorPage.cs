using Microsoft.Playwright;

namespace RwePortal.E2E.Tests.Pages;

/// <summary>Account/Manage/EnableAuthenticator: the shared key to put in an authenticator app, and the code to confirm it.</summary>
public sealed class EnableAuthenticatorPage(IPage page)
{
    public ILocator Required => page.GetByTestId("second-factor-required");

    public ILocator Key => page.GetByTestId("authenticator-key");

    public async Task EnrolAsync()
    {
        var key = await Key.InnerTextAsync();
        await page.GetByTestId("authenticator-code").FillAsync(LoginPage.CurrentCode(key));
        await page.GetByTestId("authenticator-verify").ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    public ILocator Continue => page.GetByTestId("authenticator-continue");
}
