using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Pages;

/// <summary>The subgroup builder (/subgroups/new, /subgroups/{id}/edit): cards by node path, the live funnel, the JSON view.</summary>
public sealed partial class SubgroupBuilderPage(IPage page)
{
    public ILocator Title => page.GetByTestId("builder-title");

    public ILocator Funnel => page.GetByTestId("funnel");

    public ILocator FunnelSteps => page.GetByTestId("funnel-step");

    public ILocator FunnelCount => page.GetByTestId("funnel-count");

    public ILocator Consent => page.GetByTestId("funnel-consent");

    public ILocator Duration => page.GetByTestId("funnel-duration");

    public async Task OpenNewAsync(string source)
    {
        await page.GotoAsync($"/subgroups/new?source={source}");
        await WaitUntilInteractiveAsync();
    }

    public Task WaitUntilInteractiveAsync() => Expect(Title).ToHaveAttributeAsync("data-interactive", "true");

    /// <summary>The card of a node path: criteria[0], criteria[1].any[0], index.</summary>
    public ILocator Card(string path) => page.Locator($"[data-testid=criterion-card][data-path='{path}']");

    /// <summary>An input by test id inside a scope, whether the id sits on the input or on its wrapper.</summary>
    public static ILocator Input(ILocator scope, string testId) =>
        scope.Locator($"input[data-testid={testId}], [data-testid={testId}] input").First;

    public async Task AddCriterionAsync(string kind)
    {
        var before = await page.GetByTestId("criterion-card").CountAsync();
        await page.GetByTestId("add-criterion").Locator("button").First.ClickAsync();
        await page.GetByTestId($"add-kind-{kind}").ClickAsync();
        await Expect(page.GetByTestId("criterion-card")).ToHaveCountAsync(before + 1);
    }

    /// <summary>Types into a card's concept search and picks the concept with this id from the type-ahead.</summary>
    public async Task PickConceptAsync(ILocator card, string text, int conceptId, Func<Task>? whileOpen = null)
    {
        var search = Input(card, "concepts-search");
        await search.ClickAsync();
        await search.PressSequentiallyAsync(text, new() { Delay = 30 });
        await Expect(page.Locator($".mud-popover-open [data-testid=concept-option][data-concept-id='{conceptId}']")).ToBeVisibleAsync();
        if (whileOpen is not null)
        {
            await whileOpen();
        }

        var option = page.Locator($".mud-popover-open [data-testid=concept-option][data-concept-id='{conceptId}']");
        await option.ClickAsync();
        await Expect(card.Locator($"[data-testid=concept-chip][data-concept-id='{conceptId}']")).ToBeVisibleAsync();
    }

    /// <summary>Opens a MudSelect by its test id and clicks the options whose text starts with each of <paramref name="options"/>.</summary>
    public async Task SelectAsync(ILocator scope, string testId, params string[] options)
    {
        var field = scope.Locator($"[data-testid={testId}]").First;
        await field.Locator("xpath=ancestor-or-self::div[contains(@class,'mud-select')][1]").First.ClickAsync();
        foreach (var option in options)
        {
            await page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasTextRegex = new Regex("^\\s*" + Regex.Escape(option)) }).First.ClickAsync();
        }

        // A multiple select stays open after a pick; Escape closes it once it has the keyboard, which on a busy machine can
        // come after the first press: press again, then click its overlay, before the final check.
        var items = page.Locator(".mud-popover-open .mud-list-item");
        for (var attempt = 0; attempt < 4 && await items.CountAsync() > 0; attempt++)
        {
            await page.Keyboard.PressAsync("Escape");
            try
            {
                await Expect(items).ToHaveCountAsync(0, new() { Timeout = 1_500 });
            }
            catch (PlaywrightException) when (attempt >= 1)
            {
                var overlay = page.Locator(".mud-overlay");
                if (await overlay.CountAsync() > 0)
                {
                    await overlay.First.ClickAsync(new() { Force = true });
                }
            }
            catch (PlaywrightException)
            {
                // pressed again on the next attempt
            }
        }

        await Expect(items).ToHaveCountAsync(0);
    }

    public static async Task FillAsync(ILocator scope, string testId, string value)
    {
        var input = Input(scope, testId);
        await input.FillAsync(value);
        await input.BlurAsync();
    }

    /// <summary>Waits until the funnel shows a finished count with <paramref name="steps"/> steps.</summary>
    public async Task WaitForCountAsync(int steps)
    {
        await Expect(FunnelSteps).ToHaveCountAsync(steps, new() { Timeout = 30_000 });
        await Expect(Funnel).ToHaveAttributeAsync("data-state", "counted", new() { Timeout = 30_000 });
    }

    public async Task<IReadOnlyList<string>> StepCountsAsync() =>
        await page.GetByTestId("funnel-step-count").AllInnerTextsAsync();

    /// <summary>Replaces the definition through the JSON view and applies it to the cards.</summary>
    public async Task ApplyJsonAsync(string json)
    {
        await page.Locator(".mud-tab").Filter(new() { HasText = "JSON" }).ClickAsync();
        var text = page.Locator("textarea[data-testid=json-text], [data-testid=json-text] textarea").First;
        await text.FillAsync(json);
        await text.BlurAsync();
        await page.GetByTestId("json-apply").ClickAsync();
        await Expect(page.GetByTestId("json-error")).ToHaveCountAsync(0);
    }

    /// <summary>Names the subgroup, sets its visibility and saves it; waits for its read-only page.</summary>
    public async Task SaveAsync(string name, string? description = null, bool share = false)
    {
        await FillAsync(page.Locator("body"), "builder-name", name);
        if (description is not null)
        {
            var field = page.Locator("textarea[data-testid=builder-description], [data-testid=builder-description] textarea").First;
            await field.FillAsync(description);
            await field.BlurAsync();
        }

        if (share)
        {
            await SelectAsync(page.Locator("body"), "builder-visibility", "Shared with");
        }

        await page.GetByTestId("builder-save").ClickAsync();
        await Expect(page.GetByTestId("subgroup-title")).ToHaveTextAsync(name);
    }
}
