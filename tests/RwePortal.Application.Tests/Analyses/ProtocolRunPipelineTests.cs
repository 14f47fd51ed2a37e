using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Analyses;
using RwePortal.Application.Common;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Application.Tests.Analyses;

/// <summary>
/// The run pipeline on a generated synthetic source with a known effect (docs/synthetic-data-model.md): the example
/// protocol's adjusted hazard ratio covers the marginal truth (0.80) while the crude one is biased towards 0.5; the same
/// inputs give the same document; every count shown is protected; progress comes by step and cancellation stops it.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class ProtocolRunPipelineTests(AppFixture fixture)
{
    private const string Source = "syn_run";
    private const int Persons = 10_000;

    private static ProtocolRunInput Input(ProtocolDefinition protocol) =>
        new(protocol, 3, ProtocolCanonical.Hash(protocol), Source, "research", 7, new SmallCellPolicy(11, SyntheticRuns.NoiseKey));

    private async Task<(ProtocolRunOutput Output, List<AnalysisProgress> Progress)> RunAsync(ProtocolRunInput input, CancellationToken cancellationToken = default)
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        var pipeline = SyntheticRuns.Pipeline(scope.ServiceProvider);
        var progress = new Recorder();
        return (await pipeline.RunAsync(input, progress, cancellationToken), progress.Reports);
    }

    private sealed class Callback(Action<AnalysisProgress> report) : IProgress<AnalysisProgress>
    {
        public void Report(AnalysisProgress value) => report(value);
    }

    private sealed class Recorder : IProgress<AnalysisProgress>
    {
        public List<AnalysisProgress> Reports { get; } = [];

        public void Report(AnalysisProgress value) => Reports.Add(value);
    }

    [Fact]
    public async Task Synthetic_itt_iptw_hazard_ratio_covers_the_marginal_truth_the_crude_one_is_near_half_and_a_rerun_gives_the_same_document()
    {
        await SyntheticRuns.EnsureSourceAsync(fixture, Source, Persons);
        var input = Input(SyntheticRuns.Example());

        var (first, progress) = await RunAsync(input);
        var (second, _) = await RunAsync(input);

        var estimates = first.Result.Estimates;
        Assert.InRange(0.80, estimates.HazardRatio.Lower, estimates.HazardRatio.Upper);
        Assert.InRange(estimates.UnadjustedHazardRatio.Value, 0.40, 0.60);
        Assert.True(estimates.UnadjustedHazardRatio.Upper < 0.80, $"the crude HR ({estimates.UnadjustedHazardRatio.Value:F3}) excludes the truth");
        Assert.Equal(JsonSerializer.Serialize(first.Result), JsonSerializer.Serialize(second.Result));
        Assert.Equal(JsonSerializer.Serialize(first.Facts), JsonSerializer.Serialize(second.Facts));
        Assert.Equal(Enum.GetValues<AnalysisStep>(), progress.Select(p => p.Step).Distinct());

        // The document is whole: attrition down to the prior-outcome line, balance for every covariate, curves, horizons, subgroups.
        var result = first.Result;
        Assert.Equal("no outcome before time zero", result.Attrition[^1].Step);
        Assert.Equal(result.Arms.PersonsTreatment, result.Attrition[^1].Treatment);
        Assert.Equal(result.Covariates.Count, result.Balance.Count);
        Assert.Contains(result.Balance, b => b.Covariate.StartsWith("measurement: Glomerular filtration rate", StringComparison.Ordinal) && Math.Abs(b.SmdBefore) > 0.3);
        Assert.Equal(["treatment/survival", "comparator/survival", "treatment/cumulativeIncidence", "comparator/cumulativeIncidence"], result.Curves.Select(c => c.Arm + "/" + c.Kind));
        Assert.Equal(1 - result.Curves[0].Estimate[^1], result.Curves[2].Estimate[^1], 12);
        Assert.Equal([365, 730], result.Estimates.Horizons.Select(h => h.Days));
        Assert.Equal(3, result.Subgroups.Count);
        Assert.Contains(result.Diagnostics.Gates, g => g.Name == "balance");
        Assert.Equal(first.Facts.CodeVersion, ProtocolRunPipeline.CodeVersion());
        Assert.Contains("MathNet.Numerics", first.Facts.PackageVersions.Keys);
    }

    [Fact]
    public async Task Every_count_of_the_document_is_zero_or_at_least_the_threshold_and_curves_stop_before_small_risk_sets()
    {
        await SyntheticRuns.EnsureSourceAsync(fixture, Source, Persons);
        var policy = new SmallCellPolicy(11, SyntheticRuns.NoiseKey);
        var (output, _) = await RunAsync(Input(SyntheticRuns.Example()));

        var shown = new List<Shown>();
        void Collect(object? node)
        {
            switch (node)
            {
                case Shown s:
                    shown.Add(s);
                    break;
                case string or null:
                    break;
                case System.Collections.IEnumerable items:
                    foreach (var item in items)
                    {
                        Collect(item);
                    }

                    break;
                default:
                    if (node.GetType().Namespace == typeof(Shown).Namespace)
                    {
                        foreach (var property in node.GetType().GetProperties())
                        {
                            Collect(property.GetValue(node));
                        }
                    }

                    break;
            }
        }

        Collect(output.Result);
        Collect(output.Facts);
        Assert.True(shown.Count > 100, $"the document has counts ({shown.Count})");
        Assert.All(shown, s => Assert.True(s.Value is null ? s.Display == policy.SuppressedDisplay : s.Value == 0 || s.Value >= policy.Threshold, s.Display));
        Assert.Contains(shown, s => s.Value is null);
        foreach (var line in output.Result.NumbersAtRisk)
        {
            Assert.True(line.Treatment.Value is not null || line.WeightedTreatment == 0, "a hidden number at risk hides its weighted sum too");
        }

        Assert.All(output.Result.Curves, c => Assert.True(c.Time.Count > 10 && c.Time[^1] <= 730));
    }

    [Fact]
    public async Task A_cancelled_run_stops_with_operation_cancelled_and_an_unknown_source_is_a_stable_failure()
    {
        await SyntheticRuns.EnsureSourceAsync(fixture, Source, Persons);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RunAsync(Input(SyntheticRuns.Example()), cancelled.Token));

        // Cancelled inside the propensity step (from its progress, as a user's cancel arrives mid-step): no later step starts.
        using var midway = new CancellationTokenSource();
        await using var scope = fixture.Services.CreateAsyncScope();
        var pipeline = SyntheticRuns.Pipeline(scope.ServiceProvider);
        var steps = new List<AnalysisStep>();
        var progress = new Callback(p =>
        {
            steps.Add(p.Step);
            if (p.Step == AnalysisStep.Propensity)
            {
                midway.Cancel();
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pipeline.RunAsync(Input(SyntheticRuns.Example()), progress, midway.Token));
        Assert.DoesNotContain(AnalysisStep.Weights, steps);
        Assert.Contains(AnalysisStep.Propensity, steps);
        var failure = await Assert.ThrowsAsync<ProtocolRunFailedException>(() => RunAsync(Input(SyntheticRuns.Example()) with { Source = "no_such_source" }));
        Assert.Equal("Run.SourceNotFound", failure.Code);
    }
}
