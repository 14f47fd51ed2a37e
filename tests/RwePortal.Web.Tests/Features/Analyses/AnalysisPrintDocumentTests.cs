using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using RwePortal.Application.Analyses;
using RwePortal.Application.Jobs;
using RwePortal.Web.Features.Analyses;

namespace RwePortal.Web.Tests.Features.Analyses;

/// <summary>The printed report: the document's values and protected counts reach the page the PDF is printed from, a failed gate reads FAIL, the charts are inline SVG.</summary>
public sealed class AnalysisPrintDocumentTests : BunitContext, IAsyncLifetime
{
    public AnalysisPrintDocumentTests()
    {
        JSInterop.Mode = JSRuntimeMode.Strict;
        Services.AddMudServices();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    [Fact]
    public void The_report_prints_the_estimates_hidden_counts_failed_gates_and_svg_charts_without_script()
    {
        var gates = new[] { new DiagnosticGate("Equipoise", 0.12, 0.2, false, "share with preference score 0.3–0.7 ≥ 0.2") };
        var run = AnalysisRunPageTests.Run(AnalysisRunStatus.Succeeded) with { Result = AnalysisTestData.Document(gates: gates) };

        var report = Render<AnalysisPrintDocument>(p => p.Add(c => c.Run, run));

        Assert.Equal("0.81 (0.70–0.94)", report.Find("[data-testid=print-hr]").TextContent.Trim());
        Assert.Equal(new string('c', 64), report.Find("[data-testid=print-hash]").TextContent.Trim());
        Assert.Equal("FAIL", report.Find("[data-testid=print-gate]").TextContent.Trim());
        Assert.Contains("<11", report.Find("[data-testid=print-curves]").TextContent, StringComparison.Ordinal);
        Assert.Contains("<11 / <11", report.Find("[data-testid=print-subgroups]").TextContent, StringComparison.Ordinal);
        Assert.Single(report.FindAll("svg[data-testid=print-km-svg]"));
        Assert.Single(report.FindAll("svg[data-testid=print-love-svg]"));
        Assert.Single(report.FindAll("svg[data-testid=print-forest-svg]"));
        Assert.Equal(2, report.FindAll("svg[data-testid=print-km-svg] polyline").Count);
        Assert.Equal(["Sacubitril/valsartan", "ACE inhibitor"], report.FindAll("svg[data-testid=print-km-svg] text").Select(t => t.TextContent).Where(t => t is "Sacubitril/valsartan" or "ACE inhibitor"));
        Assert.Empty(report.FindAll("script"));
        Assert.Empty(JSInterop.Invocations);
    }

    [Fact]
    public void The_forest_svg_draws_one_interval_per_estimated_subgroup_and_the_overall_one()
    {
        var document = AnalysisTestData.Document();

        var svg = PrintCharts.Forest(document.Estimates.HazardRatio, document.Subgroups);

        // Overall and "Women" have estimates; the carriers' subgroup has none and is left out of the plot.
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(svg, "<rect "));
        Assert.Contains(">Women<", svg, StringComparison.Ordinal);
        Assert.DoesNotContain("TTR", svg, StringComparison.Ordinal);
    }
}
