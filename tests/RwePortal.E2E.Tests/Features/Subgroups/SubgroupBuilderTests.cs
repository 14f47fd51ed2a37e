using Microsoft.Playwright;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Features.Subgroups;

/// <summary>
/// An analyst of Acme Pharma builds a three-modality subgroup on the synthetic source in real Chromium (EHR condition,
/// genomic variant, wearable steps), watching the funnel count each step as they edit.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class SubgroupBuilderTests(PortalFixture portal)
{
    private static readonly string Analyst = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.Analyst);

    private async Task<IPage> SignedInAnalystAsync()
    {
        var page = await portal.NewPageAsync();
        await new LoginPage(page).OpenAsync();
        await new LoginPage(page).SignInAsync(Analyst, DemoSeeder.Password);
        await Expect(new HomePage(page).Title).ToBeVisibleAsync();
        return page;
    }

    [Fact]
    public async Task An_analyst_builds_a_condition_variant_and_wearable_subgroup_and_the_funnel_counts_each_step()
    {
        var page = await SignedInAnalystAsync();
        await page.GetByTestId("nav-subgroups").ClickAsync();
        await Expect(page.GetByTestId("subgroups-title")).ToBeVisibleAsync();
        var builder = new SubgroupBuilderPage(page);
        await builder.OpenNewAsync("synthetic");
        await builder.WaitForCountAsync(1);

        await builder.AddCriterionAsync("condition");
        await builder.PickConceptAsync(builder.Card("criteria[0]"), "heart failure", 316139);
        await builder.WaitForCountAsync(2);

        await builder.AddCriterionAsync("variant");
        await builder.SelectAsync(builder.Card("criteria[1]"), "variant-gene", "HFE");
        await builder.WaitForCountAsync(3);

        await builder.AddCriterionAsync("wearable");
        var wearable = builder.Card("criteria[2]");
        await builder.SelectAsync(wearable, "window-mode", "Calendar dates");
        await SubgroupBuilderPage.FillAsync(wearable, "window-from", "2020-01-01");
        await SubgroupBuilderPage.FillAsync(wearable, "window-to", "2025-12-31");
        await SubgroupBuilderPage.FillAsync(wearable, "wearable-mean-upper", "6000");
        await SubgroupBuilderPage.FillAsync(wearable, "wearable-min-days", "10");
        await builder.WaitForCountAsync(4);
        await Expect(page.GetByTestId("funnel-step-label").Last).ToHaveTextAsync("criteria[2]: wearable");
        await PortalFixture.ScreenshotAsync(page, "subgroup-builder-three-modalities");

        // The truth by hand, as the owner: consenting persons with heart failure (or a descendant), an HFE variant, and a
        // mean under 6,000 steps over at least 10 worn days (devices of one day averaged) in 2020–2025.
        var exact = await portal.OwnerScalarAsync<long>("""
            SELECT count(*) FROM gov.consented_persons('synthetic', 'research') c
            WHERE EXISTS (SELECT 1 FROM cdm_synthetic.condition_occurrence co
                          JOIN cdm_synthetic.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id AND ca.ancestor_concept_id = 316139
                          WHERE co.person_id = c.person_id)
              AND EXISTS (SELECT 1 FROM cdm_synthetic.variant_occurrence v WHERE v.person_id = c.person_id AND v.gene_symbol = 'HFE')
              AND (SELECT count(*) >= 10 AND avg(d.steps) < 6000
                   FROM (SELECT w.measurement_date, avg(w.steps) AS steps FROM cdm_synthetic.wearable_daily w
                         WHERE w.person_id = c.person_id AND w.wear_minutes > 0 AND w.steps IS NOT NULL
                           AND w.measurement_date BETWEEN DATE '2020-01-01' AND DATE '2025-12-31'
                         GROUP BY w.measurement_date) d)
            """);
        var shown = long.Parse((await builder.FunnelCount.InnerTextAsync()).Replace(",", "", StringComparison.Ordinal).TrimStart('~'), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(exact >= 11, $"the arrangement should give a count above the threshold, got {exact}");
        Assert.InRange(shown, exact - 3, exact + 3);
        await Expect(builder.Consent).ToContainTextAsync("Removed by consent");
        await Expect(builder.Duration).ToContainTextAsync(" ms");
        await page.Context.CloseAsync();
    }
}
