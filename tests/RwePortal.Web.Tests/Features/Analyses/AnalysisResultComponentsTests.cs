using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using RwePortal.Application.Analyses;
using RwePortal.Web.Features.Analyses;

namespace RwePortal.Web.Tests.Features.Analyses;

/// <summary>The result components: the document's values reach the page, hidden counts show as hidden, gates show their verdict.</summary>
public sealed class AnalysisResultComponentsTests : BunitContext, IAsyncLifetime
{
    public AnalysisResultComponentsTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    [Fact]
    public void Attrition_shows_each_step_per_arm_as_the_policy_shows_it()
    {
        var document = AnalysisTestData.Document();
        var lines = document.Attrition.ToList();
        lines.Add(new AttritionLine("Outcome in the first 30 days excluded", AnalysisTestData.Hidden, AnalysisTestData.Count(8_001)));

        var table = Render<AnalysisAttritionTable>(p => p.Add(c => c.Header, document.Header).Add(c => c.Lines, lines));

        Assert.Equal(["5,432", "4,321", "4,100", "<11"], table.FindAll("[data-testid=attrition-treatment]").Select(e => e.TextContent.Trim()));
        Assert.Equal(["9,876", "8,765", "8,300", "8,001"], table.FindAll("[data-testid=attrition-comparator]").Select(e => e.TextContent.Trim()));
        Assert.Contains("Sacubitril/valsartan", table.Find("thead").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Arm_summary_shows_persons_events_and_the_effective_sample_size()
    {
        var document = AnalysisTestData.Document() with
        {
            Arms = AnalysisTestData.Document().Arms with { EventsTreatment = AnalysisTestData.Hidden },
        };

        var summary = Render<ArmSummaryTable>(p => p.Add(c => c.Header, document.Header).Add(c => c.Arms, document.Arms));

        Assert.Equal("4,100", summary.Find("[data-testid=arm-persons-treatment]").TextContent.Trim());
        Assert.Equal("<11", summary.Find("[data-testid=arm-events-treatment]").TextContent.Trim());
        Assert.Equal("1,290", summary.Find("[data-testid=arm-events-comparator]").TextContent.Trim());
        Assert.Equal("7,901", summary.Find("[data-testid=arm-ess-comparator]").TextContent.Trim());
    }

    [Fact]
    public void Diagnostics_show_a_failing_gate_as_failed_and_the_run_as_not_passed()
    {
        var gates = new[]
        {
            new DiagnosticGate("Max |SMD|", 0.1042, 0.1, false, "max |SMD| after adjustment ≤ 0.1"),
            new DiagnosticGate("Equipoise", 0.614, 0.2, true, "share with preference score 0.3–0.7 ≥ 0.2"),
        };

        var panel = Render<DiagnosticsPanel>(p => p.Add(c => c.Report, AnalysisTestData.Document(gates: gates).Diagnostics));

        Assert.Equal("false", panel.Find("[data-testid=diagnostics]").GetAttribute("data-passed"));
        Assert.Equal(["false", "true"], panel.FindAll("[data-testid=gate-chip]").Select(e => e.GetAttribute("data-passed")));
        Assert.Equal(["fail", "pass"], panel.FindAll("[data-testid=gate-chip]").Select(e => e.TextContent.Trim()));
        Assert.Equal("0.104", panel.Find("[data-gate='Max |SMD|'] [data-testid=gate-value]").TextContent.Trim());
        Assert.Contains("1 of 2 diagnostic gate(s) failed", panel.Find("[data-testid=diagnostics-verdict]").TextContent, StringComparison.Ordinal);
        Assert.Contains("Sacubitril exposure 30d", panel.Find("[data-testid=removed-covariate]").TextContent, StringComparison.Ordinal);
        Assert.Contains("truncated", panel.Find("[data-testid=diagnostics-note]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Diagnostics_that_all_pass_say_so()
    {
        var panel = Render<DiagnosticsPanel>(p => p.Add(c => c.Report, AnalysisTestData.Document().Diagnostics));

        Assert.Equal("true", panel.Find("[data-testid=diagnostics]").GetAttribute("data-passed"));
        Assert.All(panel.FindAll("[data-testid=gate-chip]"), chip => Assert.Equal("true", chip.GetAttribute("data-passed")));
    }

    [Fact]
    public void Estimates_show_the_adjusted_hazard_ratio_beside_the_calibrated_and_unadjusted_ones_with_risks_and_the_e_value()
    {
        var document = AnalysisTestData.Document();

        var table = Render<EstimatesTable>(p => p.Add(c => c.Header, document.Header).Add(c => c.Estimates, document.Estimates));

        Assert.Equal("0.81 (0.70–0.94)", table.Find("[data-testid=hr-adjusted]").TextContent.Trim());
        Assert.Equal("0.83 (0.67–1.04)", table.Find("[data-testid=hr-calibrated]").TextContent.Trim());
        Assert.Equal("0.52 (0.46–0.59)", table.Find("[data-testid=hr-unadjusted]").TextContent.Trim());
        Assert.Equal("1.77 / 1.32", table.Find("[data-testid=e-value]").TextContent.Trim());
        Assert.Equal("-0.013 (-0.022–-0.004)", table.Find("[data-testid=horizon-rd]").TextContent.Trim());
        Assert.Equal("0.82 (0.71–0.96)", table.Find("[data-testid=horizon-rr]").TextContent.Trim());
        Assert.Contains("<0.001", table.Find("[data-testid=hazard-ratios]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Estimates_without_negative_controls_say_the_estimate_is_not_calibrated()
    {
        var document = AnalysisTestData.Document();

        var table = Render<EstimatesTable>(p => p.Add(c => c.Header, document.Header).Add(c => c.Estimates, document.Estimates with { CalibratedHazardRatio = null }));

        Assert.Equal("no negative controls", table.Find("[data-testid=hr-calibrated]").TextContent.Trim());
    }

    [Fact]
    public void Numbers_at_risk_under_the_curves_show_protected_counts_and_hidden_ones_as_hidden()
    {
        var document = AnalysisTestData.Document();

        var chart = Render<SurvivalChart>(p => p.Add(c => c.Header, document.Header).Add(c => c.Curves, document.Curves).Add(c => c.NumbersAtRisk, document.NumbersAtRisk));

        Assert.Equal(["Sacubitril/valsartan", "4,100", "2,345", "<11"], chart.FindAll("[data-testid=risk-treatment] td").Select(e => e.TextContent.Trim()));
        Assert.Equal(["ACE inhibitor", "8,300", "5,678", "120"], chart.FindAll("[data-testid=risk-comparator] td").Select(e => e.TextContent.Trim()));
        Assert.Contains("730 d", chart.Find("[data-testid=risk-table] thead").TextContent, StringComparison.Ordinal);
        Assert.Equal("survival", chart.Find("[data-testid=km-chart]").GetAttribute("data-kind"));
        Assert.DoesNotContain(JSInterop.Invocations, i => i.Arguments.Any(a => a?.ToString()?.Contains("4100", StringComparison.Ordinal) == true));
    }

    [Fact]
    public void Forest_plot_lists_each_subgroup_with_its_estimate_hidden_counts_and_a_failed_balance()
    {
        var document = AnalysisTestData.Document();

        var forest = Render<SubgroupForestPlot>(p => p.Add(c => c.Header, document.Header).Add(c => c.Overall, document.Estimates.HazardRatio).Add(c => c.Subgroups, document.Subgroups));

        Assert.Equal(["Women", "Carriers of a TTR variant"], forest.FindAll("[data-testid=forest-name]").Select(e => e.TextContent.Trim()));
        Assert.Equal(["0.78 (0.64–0.95)", "too few persons to estimate"], forest.FindAll("[data-testid=forest-hr]").Select(e => e.TextContent.Trim()));
        Assert.Equal(["2,001 / 4,002", "<11 / 15"], forest.FindAll("[data-testid=forest-persons]").Select(e => e.TextContent.Trim()));
        Assert.Equal("<11 / <11", forest.FindAll("[data-testid=forest-events]")[1].TextContent.Trim());
        Assert.Equal(["true", "false"], forest.FindAll("[data-testid=forest-balance]").Select(e => e.GetAttribute("data-passed")));
        Assert.Contains("0.81 (0.70–0.94)", forest.Find("[data-testid=forest-overall]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Love_plot_table_marks_covariates_still_above_the_threshold_and_filters_by_search()
    {
        var document = AnalysisTestData.Document();

        var plot = Render<LovePlot>(p => p.Add(c => c.Header, document.Header).Add(c => c.Lines, document.Balance));

        Assert.Contains("1 covariate(s) above |SMD| 0.1 after adjustment (2 before), of 3", plot.Find("[data-testid=love-summary]").TextContent, StringComparison.Ordinal);
        var imbalanced = plot.FindAll("[data-testid=balance-smd-after]").Where(e => e.GetAttribute("data-imbalanced") == "true").Select(e => e.TextContent.Trim());
        Assert.Equal(["0.104"], imbalanced);

        // Sorted by |SMD| after adjustment, largest first.
        Assert.Equal(["Type 2 diabetes mellitus", "Age group 70-74", "Loop diuretic"], plot.FindAll("[data-testid=balance-covariate]").Select(e => e.TextContent.Trim()));

        plot.Find("[data-testid=balance-search] input").Input("diuretic");
        plot.WaitForAssertion(() => Assert.Equal(["Loop diuretic"], plot.FindAll("[data-testid=balance-covariate]").Select(e => e.TextContent.Trim())));
    }

    [Fact]
    public void Covariate_aggregates_show_hidden_counts_hidden_means_for_continuous_ones_and_filter_by_search()
    {
        var document = AnalysisTestData.Document();

        var table = Render<CovariateAggregatesTable>(p => p.Add(c => c.Header, document.Header).Add(c => c.Covariates, document.Covariates));

        Assert.Equal(["1,640", "<11", "mean 1234.50"], table.FindAll("[data-testid=covariate-treatment]").Select(e => e.TextContent.Trim()));
        Assert.Equal(["2,573", "12", "mean 1180.25"], table.FindAll("[data-testid=covariate-comparator]").Select(e => e.TextContent.Trim()));

        table.Find("[data-testid=covariates-search] input").Input("measurement");
        table.WaitForAssertion(() => Assert.Equal(["NT-proBNP (latest)"], table.FindAll("[data-testid=covariate-name]").Select(e => e.TextContent.Trim())));
    }

    [Fact]
    public void Negative_controls_show_their_events_protected_and_their_estimates()
    {
        var controls = new[]
        {
            AnalysisTestData.Document().NegativeControls[0],
            new NegativeControlEstimate(440_087, "Contact dermatitis", AnalysisTestData.Hidden, new Estimate(1.21, 0.41, 3.57, 0.73)),
        };

        var table = Render<NegativeControlsTable>(p => p.Add(c => c.Controls, controls));

        Assert.Equal(["57", "<11"], table.FindAll("[data-testid=negative-control-events]").Select(e => e.TextContent.Trim()));
        Assert.Equal(["1.04 (0.78–1.39)", "1.21 (0.41–3.57)"], table.FindAll("[data-testid=negative-control-hr]").Select(e => e.TextContent.Trim()));
    }

    [Fact]
    public void Preference_score_chart_shows_the_c_statistic()
    {
        var document = AnalysisTestData.Document();

        var chart = Render<PreferenceScoreChart>(p => p.Add(c => c.Header, document.Header).Add(c => c.Distribution, document.PreferenceScore));

        Assert.Contains("c-statistic 0.712", chart.Find("[data-testid=ps-cstatistic]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void The_whole_result_renders_every_section_and_no_hidden_count_as_a_number()
    {
        var document = AnalysisTestData.Document();

        var view = Render<AnalysisResultView>(p => p.Add(c => c.Result, document));

        foreach (var id in new[] { "attrition-table", "arm-summary", "ps-chart", "diagnostics", "love-plot", "km-chart", "estimates", "negative-controls", "forest-plot", "covariates-table" })
        {
            Assert.Single(view.FindAll($"[data-testid={id}]"));
        }

        Assert.Contains("<11", view.Find("[data-testid=analysis-result]").TextContent, StringComparison.Ordinal);
    }
}
