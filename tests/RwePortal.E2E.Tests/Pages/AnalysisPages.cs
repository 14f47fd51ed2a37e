using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Pages;

/// <summary>The analyses pages: the run dialog on a protocol's page, a run's page, the list of runs and the comparison, by their stable test ids.</summary>
public sealed class AnalysisPages(IPage page)
{
    /// <summary>How long a run of the pipeline on the test's source may take to finish.</summary>
    public static readonly float RunTimeout = 180_000;

    /// <summary>Opens the run dialog from the protocol page shown, keeps the source it offers (or picks <paramref name="source"/>), starts; returns the run id once its page shows.</summary>
    public async Task<Guid> StartAsync(string source, int? seed = null)
    {
        await page.GetByTestId("protocol-run").ClickAsync();
        await Expect(page.GetByTestId("run-dialog")).ToBeVisibleAsync();
        var field = page.GetByTestId("picker-source").First;
        var picker = field.Locator("xpath=ancestor-or-self::div[contains(@class,'mud-select')][1]").First;

        // The picker offers its first granted source once its list has loaded; a pick made before that default arrives
        // is overwritten by it on a busy machine. Wait for the default, pick, and pick again until the field shows it.
        const string shown = "e => (e.value ?? '') + ' ' + (e.closest('.mud-select')?.textContent ?? '')";
        await Expect(page.Locator("[data-testid=run-dialog] .mud-select")).Not.ToHaveCountAsync(0);
        for (var attempt = 0; attempt < 20 && (await field.EvaluateAsync<string>(shown)).Trim().Length <= "Data source".Length; attempt++)
        {
            await page.WaitForTimeoutAsync(250);
        }

        for (var attempt = 0; ; attempt++)
        {
            await picker.ClickAsync();
            await page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasTextRegex = new System.Text.RegularExpressions.Regex("^\\s*" + System.Text.RegularExpressions.Regex.Escape(source) + "\\s*$") }).First.ClickAsync();
            await Expect(page.Locator(".mud-popover-open .mud-list-item")).ToHaveCountAsync(0);
            await page.WaitForTimeoutAsync(300);
            if ((await field.EvaluateAsync<string>(shown)).Contains(source, StringComparison.Ordinal) || attempt == 3)
            {
                break;
            }
        }

        Assert.Contains(source, await field.EvaluateAsync<string>(shown), StringComparison.Ordinal);
        if (seed is not null)
        {
            await page.Locator("input[data-testid=run-seed], [data-testid=run-seed] input").First.FillAsync(seed.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await page.GetByTestId("run-start").ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/analyses/[0-9a-f-]{36}$"));
        await Expect(page.GetByTestId("run-title")).ToHaveAttributeAsync("data-interactive", "true");
        return Guid.Parse(page.Url[^36..]);
    }

    public async Task OpenRunAsync(Guid runId)
    {
        await page.GotoAsync($"/analyses/{runId}");
        await Expect(page.GetByTestId("run-title")).ToHaveAttributeAsync("data-interactive", "true");
    }

    public ILocator Status => page.GetByTestId("run-status");

    public ILocator Step(string step) => page.Locator($"[data-testid=run-step][data-step={step}]");

    /// <summary>Waits until the watched run finished (any way) and returns its status.</summary>
    public async Task<string> WaitForEndAsync()
    {
        await Expect(page.Locator("[data-testid=run-status][data-status=succeeded], [data-testid=run-status][data-status=failed], [data-testid=run-status][data-status=cancelled]"))
            .ToHaveCountAsync(1, new() { Timeout = RunTimeout });
        return (await Status.GetAttributeAsync("data-status"))!;
    }

    public async Task OpenListAsync()
    {
        await page.GetByTestId("nav-analyses").ClickAsync();
        await Expect(page.GetByTestId("analyses-title")).ToHaveAttributeAsync("data-interactive", "true");
    }

    public ILocator RunLinks => page.GetByTestId("run-link");
}
