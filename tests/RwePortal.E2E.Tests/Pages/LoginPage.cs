using Microsoft.Playwright;
using OtpNet;
using RwePortal.Application.Data;

namespace RwePortal.E2E.Tests.Pages;

/// <summary>The sign-in page, by its stable test ids, and the second-factor step that follows it for enrolled users.</summary>
public sealed class LoginPage(IPage page)
{
    public async Task OpenAsync() => await page.GotoAsync("/Account/Login");

    /// <summary>
    /// Signs in; when the portal asks for the second factor, answers with the current TOTP code of
    /// <paramref name="authenticatorKey"/> (the demo administrators' published key unless told otherwise).
    /// </summary>
    public async Task SignInAsync(string email, string password, string authenticatorKey = DemoSeeder.AuthenticatorKey)
    {
        await page.GetByTestId("login-email").FillAsync(email);
        await page.GetByTestId("login-password").FillAsync(password);
        await page.GetByTestId("login-submit").ClickAsync();

        // The post either moves on (home, the second-factor step, lockout, ...) or comes back with an error.
        await page.WaitForFunctionAsync(
            "() => location.pathname.toLowerCase() !== '/account/login' || document.querySelector('.alert-danger, .rwe-error li') !== null");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        if (page.Url.Contains("/Account/LoginWith2fa", StringComparison.OrdinalIgnoreCase))
        {
            await page.GetByTestId("twofactor-code").FillAsync(CurrentCode(authenticatorKey));
            await page.GetByTestId("twofactor-submit").ClickAsync();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        }
    }

    /// <summary>The code an authenticator app would show now for a base32 key (spaces and case ignored).</summary>
    public static string CurrentCode(string authenticatorKey) =>
        new Totp(Base32Encoding.ToBytes(authenticatorKey.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant())).ComputeTotp();

    public ILocator Error => page.Locator(".alert-danger, .rwe-error");
}
