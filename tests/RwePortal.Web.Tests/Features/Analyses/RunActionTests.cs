using Bunit;
using MediatR;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Analyses;
using RwePortal.Application.Features.DataSources;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Security;
using RwePortal.Web.Components.Layout;
using RwePortal.Web.Features.Protocols;
using RwePortal.Web.Tests.Features.Protocols;
using RwePortal.Web.Tests.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Analyses;

/// <summary>Where analyses start and are found: the Run action only on an approved version and only for a study lead; the navigation entry for those who may view analyses.</summary>
public sealed class RunActionTests : BunitContext, IAsyncLifetime
{
    private readonly BuilderMediator _mediator = new();

    public RunActionTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        _mediator.Answer<ListGrantedDataSources.Query, Result<IReadOnlyList<ListGrantedDataSources.Item>>>(_ =>
            new List<ListGrantedDataSources.Item> { new(Guid.NewGuid(), "synthetic", "Synthetic", ["research"]) });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private IRenderedComponent<ProtocolPage> Open(ProtocolVersionState state, UserContext user)
    {
        _mediator.Answer<GetProtocol.Query, Result<GetProtocol.Response>>(_ => ProtocolTestData.Protocol(ProtocolTestData.Example(), state, canEdit: false));
        Render<MudPopoverProvider>();
        Render<MudSnackbarProvider>();
        return Render<ProtocolPage>(p => p.Add(c => c.Id, ProtocolTestData.Id).AddCascadingValue(user));
    }

    [Fact]
    public void A_study_lead_runs_an_approved_version_and_lands_on_the_run_page()
    {
        var runId = Guid.NewGuid();
        _mediator.Answer<StartAnalysisRun.Command, Result<StartAnalysisRun.Response>>(_ => new StartAnalysisRun.Response(runId));
        var dialogs = Render<MudDialogProvider>();
        var page = Open(ProtocolVersionState.Approved, AnalysisRunPageTests.Lead);

        page.Find("button[data-testid=protocol-run]").Click();
        dialogs.WaitForAssertion(() => Assert.False(dialogs.Find("button[data-testid=run-start]").HasAttribute("disabled")));
        dialogs.Find("button[data-testid=run-start]").Click();

        page.WaitForAssertion(() => Assert.EndsWith($"analyses/{runId}", Services.GetRequiredService<NavigationManager>().Uri, StringComparison.Ordinal));
        var sent = Assert.Single(_mediator.SentOf<StartAnalysisRun.Command>());
        Assert.Equal((ProtocolTestData.Id, 1, "synthetic"), (sent.ProtocolId, sent.Version, sent.Source));
    }

    [Theory]
    [InlineData(ProtocolVersionState.Draft, TenantRole.StudyLead)]
    [InlineData(ProtocolVersionState.InReview, TenantRole.StudyLead)]
    [InlineData(ProtocolVersionState.Approved, TenantRole.Analyst)]
    [InlineData(ProtocolVersionState.Approved, TenantRole.TenantAdmin)]
    public void No_run_action_on_a_version_that_is_not_approved_or_for_a_user_who_may_not_run(ProtocolVersionState state, TenantRole role)
    {
        var user = new UserContext(Guid.NewGuid(), "someone@acme.test", "Someone", false, Guid.NewGuid(), "Acme Pharma", [role]);

        var page = Open(state, user);

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=protocol-title]")));
        Assert.Empty(page.FindAll("[data-testid=protocol-run]"));
    }

    [Theory]
    [InlineData(TenantRole.Analyst, true)]
    [InlineData(TenantRole.StudyLead, true)]
    [InlineData(TenantRole.TenantAdmin, false)]
    public void The_analyses_entry_shows_to_those_who_may_view_analyses(TenantRole role, bool shown)
    {
        var user = new UserContext(Guid.NewGuid(), "someone@acme.test", "Someone", false, Guid.NewGuid(), "Acme Pharma", [role]);

        var menu = Render<NavMenu>(p => p.AddCascadingValue(user));

        Assert.Equal(shown ? ["analyses"] : [], menu.FindAll("[data-testid=nav-analyses]").Select(e => e.GetAttribute("href")));
    }
}
