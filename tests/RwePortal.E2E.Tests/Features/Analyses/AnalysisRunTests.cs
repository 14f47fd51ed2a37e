using System.Text;
using Microsoft.Playwright;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Features.Analyses;

/// <summary>
/// A study lead of Acme imports the synthetic ARNI protocol, a second lead approves it, and the first runs it on the
/// synthetic source and watches it by step to the end; an analyst opens the finished run, reads the KM curves, the Love
/// plot and the forest plot, and exports the aggregates; a rerun of the same inputs compares equal; another tenant's lead gets 404 for every file of the run. The
/// user guide's screenshots come from here.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class AnalysisRunTests(PortalFixture portal)
{
    private static readonly string Lead = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.StudyLead);
    private static readonly string Analyst = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.Analyst);
    private static readonly string OtherTenantLead = DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.StudyLead);

    private static string Example => Path.Combine(PortalFixture.RepositoryRoot, "docs", "examples", "protocols", "synthetic-arni-vs-enalapril.json");

    private static string GuideImages => Path.Combine(PortalFixture.RepositoryRoot, "docs", "user-guide", "images");

    private async Task<IPage> SignedInAsync(string email)
    {
        var page = await portal.NewPageAsync();
        await new LoginPage(page).OpenAsync();
        await new LoginPage(page).SignInAsync(email, DemoSeeder.Password);
        await Expect(new HomePage(page).Title).ToBeVisibleAsync();
        return page;
    }

    private static async Task GuideShotAsync(IPage page, string name, ILocator? part = null)
    {
        Directory.CreateDirectory(GuideImages);
        var path = Path.Combine(GuideImages, $"{name}.png");
        if (part is null)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        }
        else
        {
            // The fixed app bar would cover the top of an element scrolled into view.
            await part.ScreenshotAsync(new LocatorScreenshotOptions { Path = path, Style = ".mud-appbar { visibility: hidden !important; }" });
        }

        await PortalFixture.ScreenshotAsync(page, name);
    }

    private async Task<Guid> ApprovedProtocolAsync()
    {
        var reviewerEmail = $"rev-{Guid.NewGuid():N}"[..14] + "@acme.test";
        await portal.CreateUserAsync(reviewerEmail, DemoSeeder.Tenants[0].Slug, TenantRole.StudyLead);
        var lead = await SignedInAsync(Lead);
        var pages = new ProtocolPages(lead);
        await pages.OpenListAsync();
        var id = await pages.ImportAsync(Example);
        await pages.SubmitAsync();
        var reviewer = await SignedInAsync(reviewerEmail);
        var review = new ProtocolPages(reviewer);
        await review.OpenAsync(id);
        await review.SignAsync(DemoSeeder.Password);
        await reviewer.GetByTestId("approve-done").ClickAsync();
        await review.ExpectStateAsync("Approved");
        await reviewer.CloseAsync();
        await lead.CloseAsync();
        return id;
    }

    [Fact]
    public async Task A_lead_runs_an_approved_protocol_and_watches_it_to_the_end_an_analyst_reads_the_charts_and_exports_a_rerun_compares_equal_and_another_tenant_gets_404()
    {
        var protocolId = await ApprovedProtocolAsync();

        // An analyst may read the protocol but is offered no run.
        var analyst = await SignedInAsync(Analyst);
        await new ProtocolPages(analyst).OpenAsync(protocolId);
        await Expect(analyst.GetByTestId("protocol-runs")).ToBeVisibleAsync();
        await Expect(analyst.GetByTestId("protocol-run")).ToHaveCountAsync(0);

        // The lead runs it and watches it by step to the end.
        var lead = await SignedInAsync(Lead);
        await new ProtocolPages(lead).OpenAsync(protocolId);
        var runs = new AnalysisPages(lead);
        var runId = await runs.StartAsync("synthetic");
        await Expect(runs.Step("Cohort")).ToBeVisibleAsync();
        await Expect(lead.Locator("[data-testid=run-step][data-state=running], [data-testid=run-step][data-state=done]").First).ToBeVisibleAsync(new() { Timeout = AnalysisPages.RunTimeout });
        await GuideShotAsync(lead, "analysis-run-progress");
        Assert.Equal("succeeded", await runs.WaitForEndAsync());
        await Expect(lead.Locator("[data-testid=run-step][data-state=done]")).ToHaveCountAsync(8);
        await Expect(lead.GetByTestId("hr-adjusted")).ToContainTextAsync("(");

        // The analyst finds it in the list and reads the charts.
        var list = new AnalysisPages(analyst);
        await list.OpenListAsync();
        await Expect(list.RunLinks.First).ToBeVisibleAsync();
        await GuideShotAsync(analyst, "analyses-list");
        await list.OpenRunAsync(runId);
        await Expect(analyst.GetByTestId("km-chart").Locator(".js-plotly-plot")).ToBeVisibleAsync();
        await Expect(analyst.GetByTestId("love-plot").Locator(".js-plotly-plot")).ToBeVisibleAsync();
        await Expect(analyst.GetByTestId("risk-table")).ToBeVisibleAsync();
        await Expect(analyst.GetByTestId("diagnostics")).ToBeVisibleAsync();
        await Expect(analyst.GetByTestId("run-cancel")).ToHaveCountAsync(0);
        await Expect(analyst.GetByTestId("run-retry")).ToHaveCountAsync(0);
        await GuideShotAsync(analyst, "analysis-results");
        await GuideShotAsync(analyst, "analysis-km", analyst.GetByTestId("km-chart"));
        await GuideShotAsync(analyst, "analysis-love-plot", analyst.GetByTestId("love-plot"));
        if (await analyst.GetByTestId("forest-plot").CountAsync() > 0)
        {
            await Expect(analyst.GetByTestId("forest-plot").Locator(".js-plotly-plot")).ToBeVisibleAsync();
            await GuideShotAsync(analyst, "analysis-forest-plot", analyst.GetByTestId("forest-plot"));
        }
        else
        {
            await Expect(analyst.GetByTestId("forest-none")).ToBeVisibleAsync();
        }

        // The analyst exports the aggregates: CSV (no formula cell), JSON, and the printed report.
        var csv = await analyst.Context.APIRequest.GetAsync($"/analyses/{runId}/export.csv");
        Assert.Equal(200, csv.Status);
        Assert.StartsWith("text/csv", csv.Headers["content-type"], StringComparison.Ordinal);
        var text = await csv.TextAsync();
        Assert.Contains("hazard", text, StringComparison.OrdinalIgnoreCase);
        await File.WriteAllTextAsync(Path.Combine(PortalFixture.ScreenshotFolder, "analysis-export.csv"), text);
        var json = await analyst.Context.APIRequest.GetAsync($"/analyses/{runId}/export.json");
        Assert.Equal(200, json.Status);
        var pdf = await analyst.Context.APIRequest.GetAsync($"/analyses/{runId}/report.pdf");
        Assert.Equal(200, pdf.Status);
        Assert.Equal("%PDF", Encoding.ASCII.GetString(await pdf.BodyAsync(), 0, 4));
        Assert.Equal(1L, await portal.OwnerScalarAsync<long>(
            $"SELECT count(*) FROM app.audit_event WHERE event_type = 'Export' AND target LIKE 'ExportAnalysisReport: run {runId}%' AND user_email = '{Analyst}'"));

        // The lead reruns the same version on the same source: the same inputs, the same numbers, side by side.
        await new ProtocolPages(lead).OpenAsync(protocolId);
        var rerunId = await runs.StartAsync("synthetic");
        Assert.Equal("succeeded", await runs.WaitForEndAsync());
        await analyst.GotoAsync($"/analyses/compare?left={runId}&right={rerunId}");
        await Expect(analyst.GetByTestId("compare-runs-verdict")).ToHaveAttributeAsync("data-same", "true");
        var hr = analyst.GetByTestId("compare-hr");
        Assert.Equal(await hr.GetByTestId("compare-value-left").InnerTextAsync(), await hr.GetByTestId("compare-value-right").InnerTextAsync());
        await Expect(analyst.Locator("[data-testid=compare-input][data-differs=true]")).ToHaveCountAsync(0);
        await GuideShotAsync(analyst, "analyses-compare");

        // Another tenant's lead, crafting the URLs, gets nothing.
        var outsider = await SignedInAsync(OtherTenantLead);
        foreach (var file in new[] { "export.csv", "export.json", "report.pdf" })
        {
            Assert.Equal(404, (await outsider.Context.APIRequest.GetAsync($"/analyses/{runId}/{file}")).Status);
        }

        await outsider.GotoAsync($"/analyses/{runId}");
        await Expect(outsider.GetByTestId("run-not-found")).ToBeVisibleAsync();
    }
}
