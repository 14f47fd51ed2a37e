using Bunit;
using MediatR;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Features.Analyses;
using RwePortal.Application.Features.DataSources;
using RwePortal.Web.Features.Analyses;
using RwePortal.Web.Tests.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Analyses;

/// <summary>The run dialog: a granted source and purpose, an optional seed, the start sent as chosen; a refusal stays in the dialog.</summary>
public sealed class RunAnalysisDialogTests : BunitContext, IAsyncLifetime
{
    private static readonly Guid ProtocolId = Guid.NewGuid();
    private readonly BuilderMediator _mediator = new();

    public RunAnalysisDialogTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        _mediator.Answer<ListGrantedDataSources.Query, Result<IReadOnlyList<ListGrantedDataSources.Item>>>(_ =>
            new List<ListGrantedDataSources.Item> { new(Guid.NewGuid(), "synthetic", "Synthetic", ["research", "safety"]) });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private async Task<(IRenderedComponent<MudDialogProvider> Provider, IDialogReference Dialog)> OpenAsync()
    {
        Render<MudPopoverProvider>();
        var provider = Render<MudDialogProvider>();
        var parameters = new DialogParameters<RunAnalysisDialog> { { d => d.ProtocolId, ProtocolId }, { d => d.Version, 2 }, { d => d.Title, "Coxibs" } };
        var dialog = await provider.InvokeAsync(() => Services.GetRequiredService<IDialogService>().ShowAsync<RunAnalysisDialog>("Run", parameters));
        return (provider, dialog);
    }

    [Fact]
    public async Task Starting_sends_the_approved_version_on_the_granted_source_with_the_seed_and_returns_the_run()
    {
        var runId = Guid.NewGuid();
        _mediator.Answer<StartAnalysisRun.Command, Result<StartAnalysisRun.Response>>(_ => new StartAnalysisRun.Response(runId));
        var (provider, dialog) = await OpenAsync();

        provider.Find("[data-testid=run-seed] input, input[data-testid=run-seed]").Change("77");
        provider.WaitForAssertion(() => Assert.False(provider.Find("button[data-testid=run-start]").HasAttribute("disabled")));
        provider.Find("button[data-testid=run-start]").Click();

        var result = await dialog.Result.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(runId, result!.Data);
        var sent = Assert.Single(_mediator.SentOf<StartAnalysisRun.Command>());
        Assert.Equal((ProtocolId, 2, "synthetic", "research", (int?)77), (sent.ProtocolId, sent.Version, sent.Source, sent.Purpose, sent.Seed));
    }

    [Fact]
    public async Task A_refused_start_shows_why_and_keeps_the_dialog_open()
    {
        _mediator.Answer<StartAnalysisRun.Command, Result<StartAnalysisRun.Response>>(_ =>
            new Error("Auth.Forbidden", "You may not run analyses in this tenant."));
        var (provider, dialog) = await OpenAsync();

        provider.WaitForAssertion(() => Assert.False(provider.Find("button[data-testid=run-start]").HasAttribute("disabled")));
        provider.Find("button[data-testid=run-start]").Click();

        provider.WaitForAssertion(() => Assert.Equal("You may not run analyses in this tenant.", provider.Find("[data-testid=run-error]").TextContent.Trim()));
        Assert.False(dialog.Result.IsCompleted);
        Assert.Null(Assert.Single(_mediator.SentOf<StartAnalysisRun.Command>()).Seed);
    }
}
