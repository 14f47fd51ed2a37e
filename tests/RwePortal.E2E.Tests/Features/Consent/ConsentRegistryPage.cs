using Microsoft.Playwright;

namespace RwePortal.E2E.Tests.Features.Consent;

/// <summary>The consent registry page (admin/consent), by its stable test ids.</summary>
public sealed class ConsentRegistryPage(IPage page)
{
    public async Task OpenAsync()
    {
        await page.GotoAsync("/admin/consent");
        await page.GetByTestId("consent-summary").WaitForAsync();
        await Assertions.Expect(page.GetByTestId("consent-title")).ToHaveAttributeAsync("data-interactive", "true");
    }

    public ILocator Source => page.GetByTestId("consent-source");

    /// <summary>The input of a MudBlazor field, whether the test id landed on the input or on its wrapper.</summary>
    private ILocator Field(string testId, string tag) =>
        page.Locator($"{tag}[data-testid={testId}], [data-testid={testId}] {tag}").First;

    public ILocator ConsentedCount(string purpose) => page.GetByTestId($"consent-count-{purpose}");

    public ILocator Model(string purpose) => page.GetByTestId($"consent-model-{purpose}");

    /// <summary>The notice a tenant that is not the source's custodian gets instead of the person-level tools.</summary>
    public ILocator CountsOnly => page.GetByTestId("consent-counts-only");

    public ILocator LookUpButton => page.GetByTestId("consent-look-up");

    public ILocator UploadButton => page.GetByTestId("consent-upload-button");

    public ILocator ModelEditor => page.GetByTestId("consent-model-editor");

    public ILocator PersonStatus(string purpose) => page.GetByTestId($"person-status-{purpose}");

    public ILocator HistoryRows => page.GetByTestId("person-history-row");

    public async Task LookUpAsync(long personId)
    {
        await Field("consent-person-id", "input").FillAsync(personId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Field("consent-person-id", "input").PressAsync("Tab");
        await page.GetByTestId("consent-look-up").ClickAsync();
        await page.GetByTestId("consent-person-status").WaitForAsync();
    }

    /// <summary>Withdraws the purpose preselected in the change form (the first active one) from a day, with a reason.</summary>
    public async Task WithdrawAsync(string effectiveFrom, string reason)
    {
        await page.GetByTestId("consent-change-withdraw").ClickAsync();
        await Field("consent-change-from", "input").FillAsync(effectiveFrom);
        await Field("consent-change-from", "input").PressAsync("Tab");
        await Field("consent-change-reason", "textarea").FillAsync(reason);
        await Field("consent-change-reason", "textarea").PressAsync("Tab");
        await page.GetByTestId("consent-change-save").ClickAsync();
    }
}
