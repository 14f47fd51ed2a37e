using Bunit;
using MediatR;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Features.Analyses;
using RwePortal.Application.Features.DataSources;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Jobs;
using RwePortal.Web.Features.Analyses;
using RwePortal.Web.Tests.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Analyses;

/// <summary>Browsing runs: the grid pages on the server with the filters sent, two runs compared, and the comparison page marks the inputs that differ.</summary>
public sealed class AnalysesPageTests : BunitContext, IAsyncLifetime
{
    private static readonly Guid ProtocolId = Guid.NewGuid();
    private readonly BuilderMediator _mediator = new();

    public AnalysesPageTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private static ListAnalysisRuns.Item Item(string status, double? hr = null) => new(
        Guid.NewGuid(), ProtocolId, "Sacubitril/valsartan vs ACE inhibitors", 3, "synthetic", "research", status, 1, "Acme Lead",
        DateTimeOffset.UtcNow, status == AnalysisRunStatus.Succeeded ? DateTimeOffset.UtcNow : null, hr, hr - 0.1, hr + 0.1);

    [Fact]
    public void Runs_are_listed_with_their_estimate_filtered_on_the_server_and_two_are_compared()
    {
        var items = new[] { Item(AnalysisRunStatus.Succeeded, 0.8123), Item(AnalysisRunStatus.Succeeded, 0.7901), Item(AnalysisRunStatus.Failed) };
        _mediator
            .Answer<ListProtocols.Query, Result<ListProtocols.Response>>(_ => new ListProtocols.Response([]))
            .Answer<ListGrantedDataSources.Query, Result<IReadOnlyList<ListGrantedDataSources.Item>>>(_ => new List<ListGrantedDataSources.Item>())
            .Answer<ListAnalysisRuns.Query, Result<ListAnalysisRuns.Response>>(q => new ListAnalysisRuns.Response(items, 3));
        Services.GetRequiredService<NavigationManager>().NavigateTo($"analyses?protocol={ProtocolId}");
        Render<MudPopoverProvider>();

        var page = Render<AnalysesPage>(p => p.AddCascadingValue(AnalysisRunPageTests.Analyst));

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=run-link]").Count));
        Assert.Equal(["0.81 (0.71–0.91)", "0.79 (0.69–0.89)", "–"], page.FindAll("[data-testid=run-row-hr]").Select(e => e.TextContent.Trim()));
        var first = _mediator.SentOf<ListAnalysisRuns.Query>().Last();
        Assert.Equal((ProtocolId, 0, 25), (first.ProtocolId, first.Page, first.PageSize));

        var compare = page.Find("button[data-testid=analyses-compare]");
        Assert.True(compare.HasAttribute("disabled"));
        page.FindAll("[data-testid=run-select] input, input[data-testid=run-select]")[0].Change(true);
        page.FindAll("[data-testid=run-select] input, input[data-testid=run-select]")[1].Change(true);
        page.WaitForAssertion(() => Assert.False(page.Find("button[data-testid=analyses-compare]").HasAttribute("disabled")));
        Assert.True(page.FindAll("[data-testid=run-select] input, input[data-testid=run-select]")[2].HasAttribute("disabled"));
        page.Find("button[data-testid=analyses-compare]").Click();

        var uri = Services.GetRequiredService<NavigationManager>().Uri;
        Assert.EndsWith($"analyses/compare?left={items[0].RunId}&right={items[1].RunId}", uri, StringComparison.Ordinal);
    }

    [Fact]
    public void The_comparison_shows_both_estimates_and_marks_the_inputs_that_differ()
    {
        var left = AnalysisRunPageTests.Run(AnalysisRunStatus.Succeeded, withResult: true, id: Guid.NewGuid());
        var document = AnalysisTestData.Document();
        CompareAnalysisRuns.Side Side(Guid id, double hr, int seed) => new(
            id, left.ProtocolTitle, 3, "synthetic", "research", AnalysisRunStatus.Succeeded, DateTimeOffset.UtcNow, document.Arms,
            document.Estimates with { HazardRatio = new RwePortal.Application.Analyses.Estimate(hr, hr - 0.1, hr + 0.1, 0.01) }, document.Diagnostics,
            left.Reproducibility with { Seed = seed });
        var a = Side(Guid.NewGuid(), 0.8123, 1);
        var b = Side(Guid.NewGuid(), 0.7901, 2);
        _mediator.Answer<CompareAnalysisRuns.Query, Result<CompareAnalysisRuns.Response>>(_ => new CompareAnalysisRuns.Response(a, b,
        [
            new CompareAnalysisRuns.InputDifference("protocol hash", "c", "c", false),
            new CompareAnalysisRuns.InputDifference("seed", "1", "2", true),
        ]));
        Services.GetRequiredService<NavigationManager>().NavigateTo($"analyses/compare?left={a.RunId}&right={b.RunId}");

        var page = Render<CompareAnalysisRunsPage>(p => p.AddCascadingValue(AnalysisRunPageTests.Analyst));

        Assert.Equal("false", page.Find("[data-testid=compare-runs-verdict]").GetAttribute("data-same"));
        Assert.Contains("seed", page.Find("[data-testid=compare-runs-verdict]").TextContent, StringComparison.Ordinal);
        Assert.Equal(["false", "true"], page.FindAll("[data-testid=compare-input]").Select(e => e.GetAttribute("data-differs")));
        var hr = page.Find("[data-testid=compare-hr]");
        Assert.Equal(("0.81 (0.71–0.91)", "0.79 (0.69–0.89)"), (hr.QuerySelector("[data-testid=compare-value-left]")!.TextContent, hr.QuerySelector("[data-testid=compare-value-right]")!.TextContent));
        Assert.Equal("all 2 gates passed", page.Find("[data-testid=compare-diagnostics] [data-testid=compare-value-left]").TextContent);
        var sent = Assert.Single(_mediator.SentOf<CompareAnalysisRuns.Query>());
        Assert.Equal((a.RunId, b.RunId), (sent.Left, sent.Right));
    }
}
