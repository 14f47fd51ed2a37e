using System.Text;
using Bunit;
using MediatR;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Consent;
using RwePortal.Application.Features.Consent;
using RwePortal.Application.Security;
using RwePortal.Web.Features.Consent;
using RwePortal.Web.Tests.Features.Users;

namespace RwePortal.Web.Tests.Features.Consent;

/// <summary>
/// What each administrator can do on the consent page: the custodian's TenantAdmin looks people up, records changes,
/// imports and sets models; a TenantAdmin of a tenant granted the source sees counts and models only.
/// </summary>
public sealed class ConsentPageTests : BunitContext, IAsyncLifetime
{
    private static readonly UserContext Admin =
        new(Guid.NewGuid(), "tenantadmin@northwind.test", "Northwind Admin", false, Guid.NewGuid(), "Northwind Hospital", [TenantRole.TenantAdmin])
        {
            SignedInWithSecondFactor = true,
        };

    private static readonly ConsentPurpose[] Purposes =
    [
        new("research", "Research", "", true),
        new("genomic_research", "Genomic research", "", true),
        new("recontact", "Recontact", "", true),
    ];

    private readonly FakeMediator _mediator = new();

    public ConsentPageTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's popover services dispose asynchronously only.
    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private static CountCell Cell(long count) =>
        SmallCellPolicy.Default.IsSuppressed(count) ? new CountCell("<11", null) : new CountCell(count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), count);

    private void Arrange(bool isCustodian)
    {
        var source = new ConsentSource("eunomia", Guid.NewGuid(), "Northwind Hospital", isCustodian);
        _mediator
            .Answer<ListConsentSources.Query, Result<ListConsentSources.Response>>(_ => new ListConsentSources.Response([source], Purposes))
            .Answer<GetConsentSummary.Query, Result<GetConsentSummary.Response>>(query => new GetConsentSummary.Response(
                query.Source,
                "Northwind Hospital",
                isCustodian,
                new DateOnly(2026, 11, 30),
                Cell(2694),
                [
                    new("research", "Research", "waiver", "IRB-2024-117", DateTimeOffset.UtcNow, isCustodian ? "admin@northwind.test" : null,
                        Cell(2694), Cell(0), Cell(0), "Research: waiver (IRB-2024-117) — 2,694 people"),
                    new("genomic_research", "Genomic research", "opt_in", null, null, null,
                        Cell(7), new CountCell("—", null), Cell(12), "Genomic research: opt-in — <11 people"),
                    new("recontact", "Recontact", "opt_out", null, null, null,
                        Cell(2691), Cell(3), Cell(3), "Recontact: opt-out — 2,691 people"),
                ]));
    }

    private IRenderedComponent<ConsentPage> RenderPage()
    {
        Render<MudPopoverProvider>();
        return Render<ConsentPage>(parameters => parameters.AddCascadingValue(Admin));
    }

    [Fact]
    public void Counts_and_the_model_of_each_purpose_are_shown_as_the_summary_protects_them()
    {
        Arrange(isCustodian: false);

        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Equal("2,694", page.Find("[data-testid=consent-count-research]").TextContent.Trim()));
        Assert.Equal("waiver (IRB-2024-117)", page.Find("[data-testid=consent-model-research]").TextContent.Trim());
        Assert.Equal("opt-out", page.Find("[data-testid=consent-model-recontact]").TextContent.Trim());
        Assert.Equal("<11", page.Find("[data-testid=consent-count-genomic_research]").TextContent.Trim());
        Assert.Equal("—", page.Find("[data-testid=consent-excluded-genomic_research]").TextContent.Trim());
        Assert.Equal("12", page.Find("[data-testid=consent-withdrawn-genomic_research]").TextContent.Trim());
        Assert.Contains("Northwind Hospital", page.Find("[data-testid=consent-custodian]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void A_granted_tenants_admin_sees_counts_only_with_no_look_up_change_import_or_model_editor()
    {
        Arrange(isCustodian: false);

        var page = RenderPage();

        page.WaitForElement("[data-testid=consent-summary]");
        Assert.Contains("held by its custodian, Northwind Hospital", page.Find("[data-testid=consent-counts-only]").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=consent-look-up]"));
        Assert.Empty(page.FindAll("[data-testid=consent-upload-button]"));
        Assert.Empty(page.FindAll("[data-testid=consent-model-editor]"));
        Assert.Empty(page.FindComponents<InputFile>());
    }

    [Fact]
    public void The_custodians_admin_gets_look_up_change_import_and_the_model_editor()
    {
        Arrange(isCustodian: true);

        var page = RenderPage();

        page.WaitForElement("[data-testid=consent-look-up]");
        Assert.Empty(page.FindAll("[data-testid=consent-counts-only]"));
        Assert.Single(page.FindAll("[data-testid=consent-upload-button]"));
        Assert.Single(page.FindAll("[data-testid=consent-model-editor]"));
    }

    [Fact]
    public void The_summary_is_asked_for_the_first_source_with_no_date_to_choose()
    {
        Arrange(isCustodian: true);

        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Contains(_mediator.Sent, r => r is GetConsentSummary.Query));
        Assert.Equal("eunomia", _mediator.Sent.OfType<GetConsentSummary.Query>().First().Source);
        Assert.Empty(page.FindAll("[data-testid=consent-as-of]"));
    }

    [Fact]
    public void The_model_editor_starts_from_the_model_in_force_for_the_purpose()
    {
        Arrange(isCustodian: true);

        var page = RenderPage();

        // Research is under a waiver: the editor shows it with its reference, not a default opt-in.
        var reference = page.WaitForElement("input[data-testid=consent-model-reference], [data-testid=consent-model-reference] input");
        Assert.Equal("IRB-2024-117", reference.GetAttribute("value"));
    }

    [Fact]
    public void The_custodian_sets_a_waiver_with_its_reference()
    {
        Arrange(isCustodian: true);
        _mediator.Answer<SetConsentModel.Command, Result<SetConsentModel.Response>>(command =>
            new SetConsentModel.Response(1, ConsentModels.OptIn, command.Model));
        var page = RenderPage();
        page.WaitForElement("[data-testid=consent-model-editor]");

        page.Find("input[data-testid=consent-model-choice-waiver]").Click();
        page.WaitForElement("input[data-testid=consent-model-reference], [data-testid=consent-model-reference] input").Change("IRB-2025-001");
        page.Find("[data-testid=consent-model-save]").Click();

        page.WaitForAssertion(() => Assert.Contains(_mediator.Sent, r => r is SetConsentModel.Command));
        var sent = _mediator.Sent.OfType<SetConsentModel.Command>().Single();
        Assert.Equal(("eunomia", "research", ConsentModels.Waiver, "IRB-2025-001"), (sent.Source, sent.Purpose, sent.Model, sent.Reference));
    }

    [Fact]
    public void A_rejected_upload_lists_every_error_and_says_nothing_was_imported()
    {
        Arrange(isCustodian: true);
        _mediator.Answer<ImportConsent.Command, Result<ConsentImportResult>>(command => new ConsentImportResult(
            command.Source,
            2,
            false,
            0,
            0,
            [new ConsentImportError(3, "purpose", "unknown purpose 'astrology'"), new ConsentImportError(3, "effective_from", "'x' is not a date as yyyy-mm-dd")],
            2));
        var page = RenderPage();
        page.WaitForElement("[data-testid=consent-summary]");

        page.FindComponent<InputFile>().UploadFiles(
            InputFileContent.CreateFromText("person_id,purpose,status,effective_from\n1,astrology,granted,x\n", "consent.csv"));

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=consent-import-error]").Count));
        Assert.Contains("Nothing was imported", page.Find("[data-testid=consent-import-rejected]").TextContent, StringComparison.Ordinal);
        var sent = _mediator.Sent.OfType<ImportConsent.Command>().Single();
        Assert.Equal(("eunomia", "consent.csv"), (sent.Source, sent.FileName));
        Assert.StartsWith("person_id,purpose", Encoding.UTF8.GetString(sent.Content.Span), StringComparison.Ordinal);
    }
}
