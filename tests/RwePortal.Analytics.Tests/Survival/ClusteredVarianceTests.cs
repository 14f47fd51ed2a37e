using RwePortal.Analytics.Survival;
using RwePortal.Analytics.Tests.Support;

namespace RwePortal.Analytics.Tests.Survival;

/// <summary>
/// Fixtures/clustered was made by Fixtures/make_clustered.R (seed 11): 300 persons in up to 3 sequential trials
/// each (630 rows), a shared frailty per person so the rows of one person are correlated.
/// </summary>
public sealed class ClusteredVarianceTests
{
    private static readonly ClusteredRows D = ClusteredRows.Instance;

    [Theory]
    [InlineData(TieMethod.Breslow, "breslow")]
    [InlineData(TieMethod.Efron, "efron")]
    public void Cox_with_clusters_matches_coxph_cluster_by_person(TieMethod ties, string key)
    {
        var fit = CoxModel.Fit(D.Time, D.Event, D.X, D.Weight, ties, D.PersonId);
        var e = D.Expected.GetProperty(key);
        Close.Assert(e.GetProperty("log_hr").GetDouble(), fit.LogHr, $"{key} log HR");
        Close.Assert(e.GetProperty("se_naive").GetDouble(), fit.SeNaive, $"{key} naive SE");
        Close.Assert(e.GetProperty("se_cluster").GetDouble(), fit.SeRobust, $"{key} clustered SE");
    }

    [Theory]
    [InlineData(TieMethod.Breslow, "breslow")]
    [InlineData(TieMethod.Efron, "efron")]
    public void Cox_with_a_cluster_per_row_is_the_per_row_sandwich_and_differs_from_the_clustered_one(TieMethod ties, string key)
    {
        var rowIds = Enumerable.Range(0, D.Time.Length).Select(i => (long)i).ToArray();
        var perRow = CoxModel.Fit(D.Time, D.Event, D.X, D.Weight, ties, rowIds);
        var unclustered = CoxModel.Fit(D.Time, D.Event, D.X, D.Weight, ties);
        var e = D.Expected.GetProperty(key);
        Close.Assert(e.GetProperty("se_per_row").GetDouble(), perRow.SeRobust, $"{key} per-row SE");
        Close.Assert(e.GetProperty("se_per_row").GetDouble(), unclustered.SeRobust, $"{key} robust = TRUE SE");
        Assert.True(Math.Abs(e.GetProperty("se_cluster").GetDouble() - perRow.SeRobust) > 1e-3, "persons repeat, so the clustered SE must differ");
    }

    [Fact]
    public void Cox_rejects_a_cluster_vector_of_the_wrong_length()
    {
        Assert.Throws<ArgumentException>(() => CoxModel.Fit(D.Time, D.Event, D.X, D.Weight, TieMethod.Efron, [1, 2, 3]));
    }

    [Theory]
    [InlineData(1, "km_treated")]
    [InlineData(0, "km_control")]
    public void Km_with_clusters_matches_survfit_with_id_and_robust_variance(int arm, string key)
    {
        var curve = KaplanMeier.Fit(D.Arm(D.Time, arm), D.Arm(D.Event, arm), D.Arm(D.Weight, arm), D.Arm(D.PersonId, arm));
        var perRow = KaplanMeier.Fit(D.Arm(D.Time, arm), D.Arm(D.Event, arm), D.Arm(D.Weight, arm));
        var differs = false;
        foreach (var row in D.Expected.GetProperty(key).EnumerateArray())
        {
            var t = row.GetProperty("time").GetDouble();
            var p = curve.At(t)!;
            Close.Assert(row.GetProperty("survival").GetDouble(), p.Survival, $"{key} S({t})");
            Close.Assert(row.GetProperty("std_err_log").GetDouble(), p.StdErrLog, $"{key} se log S({t})");
            Close.Assert(row.GetProperty("lower").GetDouble(), p.Lower, $"{key} lower({t})");
            Close.Assert(row.GetProperty("upper").GetDouble(), p.Upper, $"{key} upper({t})");
            differs |= Math.Abs(perRow.At(t)!.StdErrLog - p.StdErrLog) > 1e-4;
        }

        Assert.True(differs, "the per-row variance must differ from the clustered one when persons repeat");
    }

    [Fact]
    public void Cumulative_incidence_is_one_minus_survival_with_the_band_flipped()
    {
        var time = D.Arm(D.Time, 1);
        var cif = CumulativeIncidence.Fit(time, D.Arm(D.Event, 1), D.Arm(D.Weight, 1), D.Arm(D.PersonId, 1));
        Assert.Equal(0.0, cif.RiskAt(0.5));
        foreach (var row in D.Expected.GetProperty("km_treated").EnumerateArray())
        {
            var t = row.GetProperty("time").GetDouble();
            var p = cif.At(t)!;
            Close.Assert(1 - row.GetProperty("survival").GetDouble(), p.Risk, $"risk({t})");
            Close.Assert(1 - row.GetProperty("upper").GetDouble(), p.Lower, $"risk lower({t})");
            Close.Assert(1 - row.GetProperty("lower").GetDouble(), p.Upper, $"risk upper({t})");
            Assert.True(p.Lower <= p.Risk && p.Risk <= p.Upper);
        }
    }
}
