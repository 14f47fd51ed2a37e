using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Pages;

/// <summary>The protocols list, a protocol's page, its editor and the compare page, by their stable test ids.</summary>
public sealed class ProtocolPages(IPage page)
{
    public async Task OpenListAsync()
    {
        await page.GetByTestId("nav-protocols").ClickAsync();
        await Expect(page.GetByTestId("protocols-title")).ToHaveAttributeAsync("data-interactive", "true");
    }

    /// <summary>Imports a JSON file from the list; returns the new protocol's id once its page shows.</summary>
    public async Task<Guid> ImportAsync(string path)
    {
        await ChooseFileAsync(path);
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/protocols/[0-9a-f-]{36}$"));
        await Expect(page.GetByTestId("protocol-title")).ToHaveAttributeAsync("data-interactive", "true");
        return Guid.Parse(page.Url[^36..]);
    }

    /// <summary>Picks a file with the Import button, as a user does through the browser's file chooser.</summary>
    public async Task ChooseFileAsync(string path)
    {
        var chooser = await page.RunAndWaitForFileChooserAsync(() => page.GetByTestId("protocols-import-button").ClickAsync());
        await chooser.SetFilesAsync(path);
    }

    public async Task OpenAsync(Guid id, int? version = null)
    {
        await page.GotoAsync(version is null ? $"/protocols/{id}" : $"/protocols/{id}?v={version}");
        await Expect(page.GetByTestId("protocol-title")).ToHaveAttributeAsync("data-interactive", "true");
    }

    public async Task ExpectStateAsync(string state) =>
        await Expect(page.GetByTestId("protocol-shown-state")).ToHaveAttributeAsync("data-state", state);

    public async Task SubmitAsync()
    {
        await page.GetByTestId("protocol-submit").ClickAsync();
        await ExpectStateAsync("InReview");
    }

    /// <summary>Opens the approval dialog and signs with <paramref name="password"/>; the dialog stays open.</summary>
    public async Task SignAsync(string password)
    {
        if (await page.GetByTestId("approve-dialog").CountAsync() == 0)
        {
            await page.GetByTestId("protocol-approve").ClickAsync();
        }

        var field = page.Locator("input[data-testid=approve-password], [data-testid=approve-password] input").First;
        await field.FillAsync(password);
        await page.GetByTestId("approve-sign").ClickAsync();
    }

    /// <summary>Answers the reason dialog (reject, amend).</summary>
    public async Task GiveReasonAsync(string reason)
    {
        var field = page.Locator("textarea[data-testid=reason-text], [data-testid=reason-text] textarea").First;
        await field.FillAsync(reason);
        await field.BlurAsync();
        await page.GetByTestId("reason-confirm").ClickAsync();
    }

    /// <summary>Sets a numeric field of the editor's current step and leaves it.</summary>
    public async Task FillFieldAsync(string testId, string value)
    {
        var input = page.Locator($"input[data-testid={testId}], [data-testid={testId}] input").First;
        await input.FillAsync(value);
        await input.BlurAsync();
    }

    /// <summary>Runs the cohort preview of the version shown on <paramref name="source"/>; waits for the attrition table.</summary>
    public async Task PreviewAsync(string source)
    {
        await page.Locator(".mud-tab").Filter(new() { HasText = "Cohort preview" }).ClickAsync();
        await page.GetByTestId("preview-source").Locator("xpath=ancestor-or-self::div[contains(@class,'mud-select')][1]").First.ClickAsync();
        await page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = source }).First.ClickAsync();
        await page.GetByTestId("preview-run").ClickAsync();
        var answer = page.Locator("[data-testid=preview-attrition], [data-testid=preview-error]").First;
        await Expect(answer).ToBeVisibleAsync(new() { Timeout = 60_000 });
        if (await page.GetByTestId("preview-error").CountAsync() > 0)
        {
            throw new InvalidOperationException("The preview was refused: " + await page.GetByTestId("preview-error").InnerTextAsync());
        }
    }

    public async Task GoToStepAsync(string title) =>
        await page.GetByText(title, new() { Exact = true }).First.ClickAsync();
}
