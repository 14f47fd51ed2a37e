using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Pages;

/// <summary>The saved subgroups list, a saved subgroup's page, its Table 1 and the comparison of two.</summary>
public sealed class SubgroupPages(IPage page)
{
    public ILocator Rows => page.GetByTestId("subgroup-row");

    public ILocator Row(string name) => page.Locator($"[data-testid=subgroup-row][data-name='{name}']");

    public async Task OpenListAsync()
    {
        await page.GotoAsync("/subgroups");
        await Expect(page.GetByTestId("subgroups-title")).ToHaveAttributeAsync("data-interactive", "true");
    }

    /// <summary>Picks the source (and research) in a Table 1 or comparison page's picker.</summary>
    public async Task PickSourceAsync(string source)
    {
        await new SubgroupBuilderPage(page).SelectAsync(page.Locator("body"), "picker-source", source);
    }

    public ILocator Table1Rows => page.GetByTestId("table1-row");

    public ILocator Table1Persons => page.GetByTestId("table1-persons");

    public ILocator CompareRows => page.GetByTestId("compare-row");

    public ILocator ImbalancedRows => page.Locator("[data-testid=compare-row][data-imbalanced=true]");
}
