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

public sealed class ConsentPageTests : BunitContext, IAsyncLifetime
{
    private static readonly UserContext Admin =
        new(Guid.NewGuid(), "tenantadmin@acme.test", "Acme Admin", false, Guid.NewGuid(), "Acme Pharma", [TenantRole.TenantAdmin])
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
        _mediator
            .Answer<ListConsentSources.Query, Result<ListConsentSources.Response>>(_ => new ListConsentSources.Response(["demo"], Purposes))
            .Answer<GetConsentSummary.Query, Result<GetConsentSummary.Response>>(query => new GetConsentSummary.Response(
                query.Source,
                query.AsOf,
                [
                    new("research", "Research", 7, 0),
                    new("genomic_research", "Genomic research", 0, 12),
                    new("recontact", "Recontact", 1234, 3),
                ]));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's popover services dispose asynchronously only.
    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private IRenderedComponent<ConsentPage> RenderPage()
    {
        Render<MudPopoverProvider>();
        return Render<ConsentPage>(parameters => parameters.AddCascadingValue(Admin));
    }

    [Fact]
    public void Counts_are_shown_through_the_small_cell_policy()
    {
        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Equal("<11", page.Find("[data-testid=consent-count-research]").TextContent.Trim()));
        Assert.Equal("0", page.Find("[data-testid=consent-count-genomic_research]").TextContent.Trim());
        Assert.Equal("12", page.Find("[data-testid=consent-withdrawn-genomic_research]").TextContent.Trim());
        Assert.Equal("1,234", page.Find("[data-testid=consent-count-recontact]").TextContent.Trim());
        Assert.Equal("<11", page.Find("[data-testid=consent-withdrawn-recontact]").TextContent.Trim());
    }

    [Fact]
    public void The_summary_is_asked_for_the_first_source_as_of_today()
    {
        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Contains(_mediator.Sent, r => r is GetConsentSummary.Query));
        var query = _mediator.Sent.OfType<GetConsentSummary.Query>().First();
        Assert.Equal("demo", query.Source);
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow), query.AsOf);
    }

    [Fact]
    public void A_rejected_upload_lists_every_error_and_says_nothing_was_imported()
    {
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
        Assert.Equal(("demo", "consent.csv"), (sent.Source, sent.FileName));
        Assert.StartsWith("person_id,purpose", Encoding.UTF8.GetString(sent.Content.Span), StringComparison.Ordinal);
    }
}
