using Microsoft.Playwright;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Sources;
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
    private static readonly string LowSteps = $"HFE low steps {Guid.NewGuid():N}"[..22];
    private static readonly string Carriers = $"HFE carriers {Guid.NewGuid():N}"[..21];

    private async Task<IPage> SignedInAnalystAsync()
    {
        var page = await portal.NewPageAsync();
        await new LoginPage(page).OpenAsync();
        await new LoginPage(page).SignInAsync(Analyst, DemoSeeder.Password);
        await Expect(new HomePage(page).Title).ToBeVisibleAsync();
        return page;
    }

    [Fact]
    public async Task An_analyst_builds_a_three_modality_subgroup_watches_the_funnel_saves_it_opens_its_table1_and_compares_it()
    {
        var page = await SignedInAnalystAsync();
        await page.GetByTestId("nav-subgroups").ClickAsync();
        await Expect(page.GetByTestId("subgroups-title")).ToBeVisibleAsync();
        var builder = new SubgroupBuilderPage(page);
        await builder.OpenNewAsync("synthetic");
        await builder.WaitForCountAsync(1);

        await builder.AddCriterionAsync("condition");
        await builder.PickConceptAsync(builder.Card("criteria[0]"), "heart failure", 316139, async () =>
        {
            // The type-ahead shows each concept's domain, whether it is standard, and its place in the shipped hierarchy.
            await Expect(page.Locator(".mud-popover-open [data-testid=concept-option][data-concept-id='316139'] [data-testid=concept-standard]")).ToHaveTextAsync("standard");
            await Expect(page.Locator(".mud-popover-open [data-testid=concept-option][data-concept-id='316139'] [data-testid=concept-path]"))
                .ToHaveTextAsync("Disorder of cardiovascular system › Heart disease › Heart failure");
            await PortalFixture.ScreenshotAsync(page, "subgroup-concept-search");
        });
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
        // The count alone came first; once the funnel has arrived nothing is pending.
        await Expect(page.GetByTestId("funnel-steps-pending")).ToHaveCountAsync(0);
        await PortalFixture.ScreenshotAsync(page, "subgroup-builder-three-modalities");
        await Expect(page.Locator("[data-testid=funnel] .point").First).ToBeVisibleAsync();

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

        // Saved, shared with the tenant: its page lists every criterion.
        await builder.SaveAsync(LowSteps, "HF patients with an HFE variant under 6,000 steps a day", share: true);
        await Expect(page.GetByTestId("summary-criterion")).ToHaveCountAsync(3);
        await Expect(page.GetByTestId("subgroup-meta")).ToContainTextAsync("shared with Acme Pharma");
        await PortalFixture.ScreenshotAsync(page, "subgroup-saved");

        // Its Table 1 on the synthetic source: age bands, sex, conditions and variant carriers charted, every count protected.
        var pages = new SubgroupPages(page);
        await page.GetByTestId("subgroup-open-table1").ClickAsync();
        await Expect(page.GetByTestId("table1-title")).ToHaveAttributeAsync("data-interactive", "true");
        await pages.PickSourceAsync("synthetic");
        await Expect(pages.Table1Persons).Not.ToBeEmptyAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=table1-section][data-key=variants]")).ToContainTextAsync("HFE");
        await Expect(page.GetByTestId("chart-age_band")).ToBeVisibleAsync();
        var counts = await page.GetByTestId("table1-count").AllInnerTextsAsync();
        Assert.All(counts, c => Assert.Matches(@"^(|0|<\d+|—|~?[\d,]+)$", c.Trim()));
        Assert.DoesNotContain(counts, c => c.Trim() is { Length: > 0 } t && !t.StartsWith('<') && !t.StartsWith('~') && t != "0" && t != "—" && long.TryParse(t.Replace(",", "", StringComparison.Ordinal), out var n) && n < 11);
        await PortalFixture.ScreenshotAsync(page, "subgroup-table1");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("table1-export").ClickAsync());
        Assert.EndsWith(".csv", download.SuggestedFilename, StringComparison.Ordinal);
        var exportUrl = await page.GetByTestId("table1-export").GetAttributeAsync("href");

        // The same export asked for by another tenant's analyst: the subgroup does not exist for them.
        var other = await portal.NewPageAsync();
        await new LoginPage(other).OpenAsync();
        await new LoginPage(other).SignInAsync(DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.Analyst), DemoSeeder.Password);
        var refused = await other.Context.APIRequest.GetAsync("/" + exportUrl!.TrimStart('/'), new() { MaxRedirects = 0 });
        Assert.Equal(404, refused.Status);
        await other.Context.CloseAsync();

        // A second subgroup (the same without the wearable criterion), written in the JSON view, then the comparison.
        await builder.OpenNewAsync("synthetic");
        await builder.ApplyJsonAsync("""
            {"version": 1, "criteria": [
              {"kind": "condition", "concepts": [{"id": 316139, "descendants": true}]},
              {"kind": "variant", "gene": "HFE"}]}
            """);
        await builder.WaitForCountAsync(3);
        await builder.SaveAsync(Carriers);
        await pages.OpenListAsync();
        await pages.Row(LowSteps).GetByTestId("subgroup-select").ClickAsync();
        await pages.Row(Carriers).GetByTestId("subgroup-select").ClickAsync();
        await page.GetByTestId("subgroups-compare").ClickAsync();
        await Expect(page.GetByTestId("compare-title")).ToHaveAttributeAsync("data-interactive", "true");
        await pages.PickSourceAsync("synthetic");
        await Expect(pages.CompareRows.First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("compare-name-a")).ToHaveTextAsync(LowSteps);
        // The Love plot is drawn (Plotly puts one point per bar), by the portal's own Plotly script.
        await Expect(page.Locator("[data-testid=compare-smd-chart] .point").First).ToBeVisibleAsync();
        // Low walkers differ from all carriers in their wearable steps: at least one row is marked |SMD| > 0.1.
        await Expect(pages.ImbalancedRows.First).ToBeVisibleAsync();
        await PortalFixture.ScreenshotAsync(page, "subgroup-compare");
        await page.GetByTestId("compare-smd-chart").ScreenshotAsync(new() { Path = Path.Combine(PortalFixture.ScreenshotFolder, "subgroup-compare-smd.png") });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_done_when_question_built_in_cards_counts_what_the_command_lines_counter_counts_for_the_example()
    {
        var page = await SignedInAnalystAsync();
        var builder = new SubgroupBuilderPage(page);
        await builder.OpenNewAsync("synthetic");
        await builder.WaitForCountAsync(1);

        // Index: the first heart-failure diagnosis recorded during an inpatient visit.
        await SubgroupBuilderPage.Input(page.Locator("body"), "index-toggle").CheckAsync(new() { Force = true });
        await Expect(builder.Card("index")).ToBeVisibleAsync();
        var index = builder.Card("index");
        await builder.PickConceptAsync(index, "heart failure", 316139);
        await builder.SelectAsync(index, "event-visit-types", "Inpatient visit");
        await builder.AddCriterionAsync("variant");
        var variant = builder.Card("criteria[0]");
        await builder.SelectAsync(variant, "variant-gene", "TTR");
        await builder.SelectAsync(variant, "variant-significance", "pathogenic", "likely pathogenic");
        await builder.AddCriterionAsync("wearable");
        await SubgroupBuilderPage.FillAsync(builder.Card("criteria[1]"), "wearable-min-days", "10");
        await builder.AddCriterionAsync("enrollment");
        await builder.WaitForCountAsync(4);
        await Expect(page.GetByTestId("funnel-step-label").Last).ToHaveTextAsync("criteria[2]: enrollment");
        await PortalFixture.ScreenshotAsync(page, "subgroup-builder-hf-admission");

        // The truth: the example file of this question counted by the command line's counter, exact, as the reader.
        var example = SubgroupDefinitionParser.Parse(await File.ReadAllTextAsync(
            Path.Combine(PortalFixture.RepositoryRoot, "docs", "examples", "subgroups", "synthetic-ttr-hf-admission.json")));
        await using var warehouse = WarehouseConnections.Create(portal.Database.ReaderConnectionString);
        await using var owner = NpgsqlDataSource.Create(portal.Database.OwnerConnectionString);
        var source = (await new DataSourceRegistry(owner).FindAsync("synthetic", CancellationToken.None))!;
        var truth = await new SubgroupCounter(warehouse).CountAsync(example.Definition!, source, "research", CancellationToken.None);
        var shown = await builder.StepCountsAsync();
        Assert.Equal(truth.Attrition.Count, shown.Count);
        for (var i = 0; i < shown.Count; i++)
        {
            var exact = truth.Attrition[i].Remaining;
            var display = shown[i].Trim();
            if (exact == 0)
            {
                Assert.Equal("0", display);
            }
            else if (exact < 11)
            {
                Assert.Equal("<11", display);
            }
            else
            {
                Assert.InRange(long.Parse(display.TrimStart('~').Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture), exact - 3, exact + 3);
            }
        }

        await page.Context.CloseAsync();
    }
}
