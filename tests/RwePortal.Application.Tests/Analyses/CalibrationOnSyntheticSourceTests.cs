using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Analyses;
using RwePortal.Application.Common;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Synthetic;

namespace RwePortal.Application.Tests.Analyses;

/// <summary>
/// Empirical calibration on the synthetic source (docs/synthetic-data-model.md, "Negative-control outcomes"): the
/// example protocol's nine incident negative controls (true HR 1) get estimates, the null distribution fitted here by
/// an independent grid search agrees with the run's calibrated HR and EASE, the calibrated CI still covers the
/// marginal truth 0.80, and with fewer than five controls nothing is calibrated.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class CalibrationOnSyntheticSourceTests(AppFixture fixture)
{
    private const string Source = "syn_nco";
    private const int Persons = 20_000;

    private sealed class Silent : IProgress<AnalysisProgress>
    {
        public void Report(AnalysisProgress value)
        {
        }
    }

    [Fact]
    public async Task The_example_protocol_calibrates_with_nine_controls_and_its_calibrated_ci_covers_the_truth()
    {
        await SyntheticRuns.EnsureSourceAsync(fixture, Source, Persons);
        var protocol = SyntheticRuns.Example();

        var result = (await RunAsync(protocol)).Result;

        var controls = result.NegativeControls;
        Assert.Equal(NegativeControlConditions.All.Select(c => (long)c.ConceptId).Order(), controls.Select(c => c.ConceptId).Order());
        Assert.True(controls.Count >= ProtocolRunPipeline.MinNegativeControlsForCalibration);
        Assert.All(controls, c => Assert.True(c.Events.Value >= 100, $"{c.Name}: {c.Events.Display} events"));
        Assert.All(controls, c => Assert.Equal(NegativeControlConditions.All.Single(n => n.ConceptId == c.ConceptId).Name, c.Name));

        // True HR 1 for each: after adjustment at most one of nine CIs may miss it (expected 0.45 at 95 %).
        Assert.True(controls.Count(c => c.HazardRatio.Lower > 1 || c.HazardRatio.Upper < 1) <= 1, string.Join("; ", controls.Select(c => $"{c.Name} {c.HazardRatio.Value:F3}")));

        var calibrated = result.Estimates.CalibratedHazardRatio;
        Assert.NotNull(calibrated);
        Assert.InRange(0.80, calibrated.Lower, calibrated.Upper);
        var ease = Assert.Single(result.Diagnostics.Gates, g => g.Name == "EASE");
        Assert.True(ease.Passed, $"EASE {ease.Value:F3}");
        Assert.Equal(0.25, ease.Threshold);
        var equipoise = Assert.Single(result.Diagnostics.Gates, g => g.Name == "equipoise");
        Assert.Equal(0.2, equipoise.Threshold);
        Assert.DoesNotContain(result.Diagnostics.Notes, n => n.Contains("calibration needs", StringComparison.Ordinal));

        // The null distribution by an independent maximum-likelihood grid search over the controls' reported CIs.
        var fits = controls.Select(c => (LogRr: Math.Log(c.HazardRatio.Value), Se: (Math.Log(c.HazardRatio.Upper) - Math.Log(c.HazardRatio.Lower)) / (2 * 1.959963984540054))).ToList();
        var (mean, sd) = GridNull(fits);
        Assert.Equal(ExpectedAbsolute(mean, sd), ease.Value, 2);
        var hr = result.Estimates.HazardRatio;
        var shifted = Math.Exp(Math.Log(hr.Value) - mean);
        Assert.InRange(calibrated.Value / shifted, 0.98, 1.02);
        Assert.True(calibrated.Upper - calibrated.Lower >= (hr.Upper - hr.Lower) * Math.Exp(-mean) * 0.98, "calibration never narrows the interval");
    }

    [Fact]
    public async Task Four_controls_are_not_enough_no_calibrated_hr_and_no_ease_gate()
    {
        await SyntheticRuns.EnsureSourceAsync(fixture, Source, Persons);
        var protocol = SyntheticRuns.Example();
        protocol = protocol with
        {
            AnalysisPlan = protocol.AnalysisPlan! with { NegativeControlOutcomes = [.. NegativeControlConditions.All.Take(4).Select(c => c.ConceptId)] },
        };

        var result = (await RunAsync(protocol)).Result;

        Assert.Equal(4, result.NegativeControls.Count);
        Assert.Null(result.Estimates.CalibratedHazardRatio);
        Assert.DoesNotContain(result.Diagnostics.Gates, g => g.Name == "EASE");
        Assert.Contains(result.Diagnostics.Notes, n => n.Contains("calibration needs at least 5 negative controls with estimates (4 here)", StringComparison.Ordinal));
    }

    private static (double Mean, double Sd) GridNull(IReadOnlyList<(double LogRr, double Se)> fits)
    {
        double LogLikelihood(double mu, double sd) => fits.Sum(f =>
        {
            var v = (sd * sd) + (f.Se * f.Se);
            return (-0.5 * Math.Log(2 * Math.PI * v)) - (0.5 * (f.LogRr - mu) * (f.LogRr - mu) / v);
        });

        var best = (Ll: double.NegativeInfinity, Mean: 0.0, Sd: 0.0);
        for (var m = -1000; m <= 1000; m += 2)
        {
            for (var s = 0; s <= 1000; s += 2)
            {
                var ll = LogLikelihood(m / 2000.0, s / 2000.0);
                if (ll > best.Ll)
                {
                    best = (ll, m / 2000.0, s / 2000.0);
                }
            }
        }

        return (best.Mean, best.Sd);
    }

    /// <summary>E|X| for X ~ N(mean, sd): the expected absolute systematic error of the null.</summary>
    private static double ExpectedAbsolute(double mean, double sd)
    {
        if (sd < 1e-9)
        {
            return Math.Abs(mean);
        }

        // Midpoint rule over ±8 sd: plenty for two decimals.
        const int Steps = 20_000;
        var from = mean - (8 * sd);
        var width = 16 * sd / Steps;
        var sum = 0.0;
        for (var i = 0; i < Steps; i++)
        {
            var x = from + ((i + 0.5) * width);
            sum += Math.Abs(x) * Math.Exp(-0.5 * ((x - mean) / sd) * ((x - mean) / sd)) / (sd * Math.Sqrt(2 * Math.PI)) * width;
        }

        return sum;
    }

    private async Task<ProtocolRunOutput> RunAsync(ProtocolDefinition protocol)
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        var pipeline = SyntheticRuns.Pipeline(scope.ServiceProvider);
        var input = new ProtocolRunInput(protocol, 3, ProtocolCanonical.Hash(protocol), Source, "research", 7, new SmallCellPolicy(11, SyntheticRuns.NoiseKey));
        return await pipeline.RunAsync(input, new Silent(), CancellationToken.None);
    }
}
