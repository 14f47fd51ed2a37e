using System.Text.Json;
using RwePortal.Analytics.Survival;
using RwePortal.Analytics.Tests.Support;

namespace RwePortal.Analytics.Tests.Survival;

public sealed class KaplanMeierBandTests
{
    /// <summary>
    /// km_bands.json was made by Fixtures/make_km_bands.R: survfit(..., weights = R's weights, robust = TRUE,
    /// conf.type = "log") on the ate-stabilized cohort.
    /// </summary>
    [Fact]
    public void Robust_standard_error_and_log_band_match_survfit_with_robust_variance()
    {
        var f = RFixture.Load("ate-stabilized");
        using var bands = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "ate-stabilized", "km_bands.json")));
        foreach (var (arm, code) in new[] { ("treated", 1), ("control", 0) })
        {
            var idx = Enumerable.Range(0, f.Cohort.Count).Where(i => f.Cohort.Treatment[i] == code).ToArray();
            var curve = KaplanMeier.Fit(
                idx.Select(i => f.Cohort.Time[i]).ToArray(),
                idx.Select(i => f.Cohort.Event[i]).ToArray(),
                idx.Select(i => f.RWeight[i]).ToArray());
            foreach (var row in bands.RootElement.GetProperty(arm).EnumerateArray())
            {
                var t = row.GetProperty("time").GetDouble();
                var p = curve.At(t)!;
                Close.Assert(row.GetProperty("survival").GetDouble(), p.Survival, $"{arm} S({t})");
                Close.Assert(row.GetProperty("std_err_log").GetDouble(), p.StdErrLog, $"{arm} se log S({t})");
                Close.Assert(row.GetProperty("lower").GetDouble(), p.Lower, $"{arm} lower({t})");
                Close.Assert(row.GetProperty("upper").GetDouble(), p.Upper, $"{arm} upper({t})");
            }
        }
    }

    [Fact]
    public void Unweighted_curve_without_ties_is_the_textbook_product_limit()
    {
        // Times 1..5, events at 1, 3, 4 (2 and 5 censored): S = 4/5, then ·2/3, then ·1/2.
        var curve = KaplanMeier.Fit([1, 2, 3, 4, 5], [1, 0, 1, 1, 0], [1, 1, 1, 1, 1]);
        Assert.Equal(0.8, curve.SurvivalAt(1), 12);
        Assert.Equal(0.8, curve.SurvivalAt(2.5), 12);
        Assert.Equal(0.8 * 2 / 3, curve.SurvivalAt(3), 12);
        Assert.Equal(0.8 * 2 / 3 / 2, curve.SurvivalAt(100), 12);
        Assert.Equal(1.0, curve.SurvivalAt(0.5), 12);
    }
}
