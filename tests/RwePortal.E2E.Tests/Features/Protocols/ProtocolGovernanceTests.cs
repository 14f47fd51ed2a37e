using System.Text;
using Microsoft.Playwright;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Features.Protocols;

/// <summary>
/// A study lead of Acme imports the Eunomia example protocol and submits it; a second study lead approves it by
/// signature (a wrong password first); the approved version offers no edit; an amendment makes v2 and the compare page
/// shows the change; the print view's PDF is a PDF, and another tenant's user gets 404 for it.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class ProtocolGovernanceTests(PortalFixture portal)
{
    private static readonly string Lead = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.StudyLead);
    private static readonly string OtherTenantLead = DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.StudyLead);

    private static string Example => Path.Combine(PortalFixture.RepositoryRoot, "docs", "examples", "protocols", "eunomia-celecoxib-vs-diclofenac.json");

    private async Task<IPage> SignedInAsync(string email)
    {
        var page = await portal.NewPageAsync();
        await new LoginPage(page).OpenAsync();
        await new LoginPage(page).SignInAsync(email, DemoSeeder.Password);
        await Expect(new HomePage(page).Title).ToBeVisibleAsync();
        return page;
    }

    [Fact]
    public async Task A_lead_imports_and_submits_a_second_lead_signs_the_approved_version_is_read_only_an_amendment_is_compared_and_the_pdf_is_served()
    {
        var reviewerEmail = $"reviewer-{Guid.NewGuid():N}"[..17] + "@acme.test";
        await portal.CreateUserAsync(reviewerEmail, DemoSeeder.Tenants[0].Slug, TenantRole.StudyLead);

        // The author imports the example and submits it.
        var lead = await SignedInAsync(Lead);
        var pages = new ProtocolPages(lead);
        await pages.OpenListAsync();
        var id = await pages.ImportAsync(Example);
        await Expect(lead.GetByTestId("protocol-title")).ToContainTextAsync("Celecoxib versus diclofenac");

        // The outcome-blind preview on Eunomia: attrition per arm, the prior-outcome step not run, no outcome shown.
        await pages.PreviewAsync("eunomia");
        await Expect(lead.GetByTestId("preview-step").First).ToBeVisibleAsync();
        await Expect(lead.GetByTestId("preview-attrition")).ToContainTextAsync("applied once the version is approved");
        await Expect(lead.GetByTestId("preview-attrition")).Not.ToContainTextAsync("haemorrhage");
        await PortalFixture.ScreenshotAsync(lead, "protocol-preview");
        await lead.Locator(".mud-tab").Filter(new() { HasText = "Document" }).ClickAsync();
        await Expect(lead.GetByTestId("section-strategies")).ToContainTextAsync("celecoxib");
        await pages.SubmitAsync();
        await Expect(lead.GetByTestId("protocol-approve")).ToHaveCountAsync(0);
        await PortalFixture.ScreenshotAsync(lead, "protocol-submitted");

        // A second study lead signs: a wrong password signs nothing, the right one approves.
        var reviewer = await SignedInAsync(reviewerEmail);
        var review = new ProtocolPages(reviewer);
        await review.OpenAsync(id);
        await review.SignAsync("not-the-password");
        await Expect(reviewer.GetByTestId("approve-error")).ToContainTextAsync("Nothing was signed");
        await Expect(reviewer.GetByTestId("approve-meaning")).ToContainTextAsync("approved as protocol of record");
        await review.SignAsync(DemoSeeder.Password);
        await Expect(reviewer.GetByTestId("approve-signed")).ToBeVisibleAsync();
        await Expect(reviewer.GetByTestId("approve-printed-name")).ToHaveTextAsync(reviewerEmail.Split('@')[0]);
        await PortalFixture.ScreenshotAsync(reviewer, "protocol-signed");
        await reviewer.GetByTestId("approve-done").ClickAsync();
        await review.ExpectStateAsync("Approved");

        // The approved version is read-only: no edit on its page, and the editor refuses it.
        await pages.OpenAsync(id);
        await pages.ExpectStateAsync("Approved");
        await Expect(lead.GetByTestId("protocol-locked")).ToBeVisibleAsync();
        await Expect(lead.GetByTestId("protocol-edit")).ToHaveCountAsync(0);
        await Expect(lead.GetByTestId("protocol-submit")).ToHaveCountAsync(0);
        await lead.GotoAsync($"/protocols/{id}/edit?v=1");
        await Expect(lead.GetByTestId("editor-readonly")).ToBeVisibleAsync();
        await Expect(lead.GetByTestId("editor-save")).ToHaveCountAsync(0);

        // An amendment opens v2 in the editor; the follow-up changes; compare shows exactly that component changed.
        await pages.OpenAsync(id);
        await lead.GetByTestId("protocol-amend").ClickAsync();
        await pages.GiveReasonAsync("Two years of follow-up, as the sponsor asked.");
        await Expect(lead.GetByTestId("editor-title")).ToHaveTextAsync("Edit version 2");
        await Expect(lead.GetByTestId("editor-title")).ToHaveAttributeAsync("data-interactive", "true");
        await pages.GoToStepAsync("Eligibility");
        await Expect(lead.GetByTestId("eligibility-add-criterion")).ToBeVisibleAsync();
        await Expect(lead.Locator("input[data-testid=field-age-min], [data-testid=field-age-min] input").First).ToHaveValueAsync("18");
        await pages.GoToStepAsync("Follow-up");
        await pages.FillFieldAsync("field-max-days", "730");
        await Expect(lead.GetByTestId("protocol-timeline")).ToHaveAttributeAsync("data-max-days", "730");
        await PortalFixture.ScreenshotAsync(lead, "protocol-editor-follow-up");
        await lead.GetByTestId("editor-save").ClickAsync();
        await Expect(lead.GetByTestId("editor-revision")).Not.ToHaveAttributeAsync("data-revision", "1");
        await lead.GotoAsync($"/protocols/{id}/compare?from=1&to=2");
        await Expect(lead.Locator("[data-testid=diff-component][data-changed=true]")).ToHaveCountAsync(1);
        await Expect(lead.Locator("[data-testid=diff-component][data-changed=true]")).ToHaveAttributeAsync("data-component", "followUp");
        await Expect(lead.GetByTestId("diff-deleted")).ToContainTextAsync("365");
        await Expect(lead.GetByTestId("diff-inserted")).ToContainTextAsync("730");
        await PortalFixture.ScreenshotAsync(lead, "protocol-compare");

        // The print view of the approved version, its PDF and its JSON export.
        await lead.GotoAsync($"/protocols/{id}/v/1/print");
        await Expect(lead.GetByTestId("print-signature")).ToContainTextAsync("approved as protocol of record");
        await Expect(lead.GetByTestId("protocol-timeline")).ToBeVisibleAsync();
        await PortalFixture.ScreenshotAsync(lead, "protocol-print");
        var pdf = await lead.Context.APIRequest.GetAsync($"/protocols/{id}/v/1/protocol.pdf");
        Assert.Equal(200, pdf.Status);
        Assert.Equal("application/pdf", pdf.Headers["content-type"]);
        var body = await pdf.BodyAsync();
        Assert.Equal("%PDF", Encoding.ASCII.GetString(body, 0, 4));
        await File.WriteAllBytesAsync(Path.Combine(PortalFixture.ScreenshotFolder, "protocol-v1.pdf"), body);
        Assert.Equal(1L, await portal.OwnerScalarAsync<long>(
            $"SELECT count(*) FROM app.audit_event WHERE event_type = 'Export' AND target LIKE 'ExportProtocolPdf:%({id}) v1' AND user_email = '{Lead}' AND details->>'state' = 'Approved'"));
        var json = await lead.Context.APIRequest.GetAsync($"/protocols/{id}/v/1/export.json");
        Assert.Equal(200, json.Status);
        Assert.Contains("\"format\": \"rweportal.protocol\"", await json.TextAsync(), StringComparison.Ordinal);

        // Another tenant's study lead, crafting the URL, gets nothing.
        var outsider = await SignedInAsync(OtherTenantLead);
        Assert.Equal(404, (await outsider.Context.APIRequest.GetAsync($"/protocols/{id}/v/1/protocol.pdf")).Status);
        Assert.Equal(404, (await outsider.Context.APIRequest.GetAsync($"/protocols/{id}/v/1/export.json")).Status);
        Assert.Equal(1L, await portal.OwnerScalarAsync<long>($"SELECT count(*) FROM app.audit_event WHERE target LIKE 'ExportProtocolPdf:%({id}) v1'"));
        await outsider.GotoAsync($"/protocols/{id}");
        await Expect(outsider.GetByTestId("protocol-not-found")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task The_tenant_admin_signed_in_with_the_second_factor_rejects_with_a_comment_and_the_lead_can_edit_again()
    {
        var lead = await SignedInAsync(Lead);
        var pages = new ProtocolPages(lead);
        await pages.OpenListAsync();
        var id = await pages.ImportAsync(Example);
        await pages.SubmitAsync();

        var admin = await SignedInAsync(DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.TenantAdmin));
        var review = new ProtocolPages(admin);
        await review.OpenAsync(id);
        await Expect(admin.GetByTestId("protocol-approve")).ToBeVisibleAsync();
        await admin.GetByTestId("protocol-reject").ClickAsync();
        await review.GiveReasonAsync("The grace period of 0 days excludes nobody; justify it.");
        await review.ExpectStateAsync("Rejected");

        await pages.OpenAsync(id);
        await pages.ExpectStateAsync("Rejected");
        await Expect(lead.GetByTestId("protocol-edit")).ToBeVisibleAsync();
        await lead.Locator(".mud-tab").Filter(new() { HasText = "Revisions and reviews" }).ClickAsync();
        await Expect(lead.GetByTestId("protocol-review")).ToContainTextAsync("justify it");
        await PortalFixture.ScreenshotAsync(lead, "protocol-rejected");
    }

    [Fact]
    public async Task An_import_with_errors_lists_each_problem_with_its_node_path_and_creates_nothing()
    {
        var file = Path.Combine(Path.GetTempPath(), $"broken-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """
            {"format": "rweportal.protocol", "formatVersion": 1, "protocol": {"title": "Broken", "state": "Approved", "contentHash": "00"},
             "document": {"version": 1, "general": {"title": "Broken"}}}
            """);
        var lead = await SignedInAsync(Lead);
        var pages = new ProtocolPages(lead);
        await pages.OpenListAsync();
        var before = await lead.GetByTestId("protocol-row").CountAsync();

        await pages.ChooseFileAsync(file);

        await Expect(lead.GetByTestId("protocols-import-rejected")).ToBeVisibleAsync();
        var paths = await lead.Locator("[data-testid=protocols-import-error] code").AllInnerTextsAsync();
        Assert.Contains("document.strategies", paths);
        Assert.Equal(before, await lead.GetByTestId("protocol-row").CountAsync());
        await PortalFixture.ScreenshotAsync(lead, "protocol-import-errors");
        File.Delete(file);
    }
}
