using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Analyses;
using RwePortal.Application.Common;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Application.Tests.Analyses;

/// <summary>
/// The per-protocol example on a generated synthetic source (docs/synthetic-data-model.md). The generator's outcome does
/// not depend on staying on the drug and its discontinuation is random per fill, so the per-protocol effect of staying
/// on sacubitril/valsartan equals the marginal truth (0.80): the IPCW estimate's interval covers it, the document
/// carries the per-protocol curves, horizons and notes, and a rerun gives the same document.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class PerProtocolRunTests(AppFixture fixture)
{
    private const string Source = "syn_run";
    private const int Persons = 10_000;

    private sealed class Ignore : IProgress<AnalysisProgress>
    {
        public void Report(AnalysisProgress value)
        {
        }
    }

    private async Task<ProtocolRunOutput> RunAsync(ProtocolDefinition protocol)
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        var pipeline = SyntheticRuns.Pipeline(scope.ServiceProvider);
        return await pipeline.RunAsync(new ProtocolRunInput(protocol, 1, ProtocolCanonical.Hash(protocol), Source, "research", 7, new SmallCellPolicy(11, SyntheticRuns.NoiseKey)), new Ignore(), CancellationToken.None);
    }

    [Fact]
    public async Task Synthetic_per_protocol_ipcw_hazard_ratio_covers_the_truth_with_curves_bands_and_weight_notes_and_a_rerun_is_identical()
    {
        await SyntheticRuns.EnsureSourceAsync(fixture, Source, Persons);
        var protocol = SyntheticRuns.Example("synthetic-arni-vs-enalapril-per-protocol.json");
        var output = await RunAsync(protocol);
        var document = output.Result;
        var hr = document.Estimates.HazardRatio;
        Assert.Equal("perProtocol", document.Header.Contrast);
        Assert.InRange(0.80, hr.Lower, hr.Upper);
        Assert.True(hr.Upper < 1, $"per-protocol HR {hr.Value} ({hr.Lower}–{hr.Upper})");
        Assert.InRange(document.Estimates.UnadjustedHazardRatio.Value, 0.35, 0.6);
        Assert.Null(document.Estimates.CalibratedHazardRatio);

        var notes = document.Diagnostics.Notes;
        Assert.Contains(notes, n => n.StartsWith("per-protocol: IPCW for deviation", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("sequential emulated trials", StringComparison.Ordinal) && n.Contains("censoring weights mean", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("not IPCW-weighted", StringComparison.Ordinal));

        foreach (var arm in new[] { "treatment", "comparator" })
        {
            var curve = document.Curves.Single(c => c.Arm == arm && c.Kind == "cumulativeIncidence");
            Assert.True(curve.Time.Count > 10);
            Assert.True(curve.Time[^1] <= protocol.FollowUp!.MaxDays);
            for (var j = 1; j < curve.Time.Count; j++)
            {
                Assert.InRange(curve.Estimate[j], curve.Lower[j], curve.Upper[j]);
                Assert.True(curve.Estimate[j] > curve.Estimate[j - 1]);
            }
        }

        // The horizons: the treated arm's risk is lower at two years, with its interval.
        var twoYears = document.Estimates.Horizons.Single(h => h.Days == 730);
        Assert.True(twoYears.RiskTreatment < twoYears.RiskComparator);
        Assert.True(twoYears.RiskRatio.Upper < 1);

        var again = await RunAsync(protocol);
        Assert.Equal(JsonSerializer.Serialize(document), JsonSerializer.Serialize(again.Result));
    }
}
