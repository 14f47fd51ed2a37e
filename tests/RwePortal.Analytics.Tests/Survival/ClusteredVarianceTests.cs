using RwePortal.Analytics.Survival;
using RwePortal.Analytics.Tests.Support;

namespace RwePortal.Analytics.Tests.Survival;

/// <summary>
/// Fixtures/clustered and clustered-ties were made by Fixtures/make_clustered.R (seed 11, days; seed 12, times rounded
/// up to 30-day units so most event times are tied): 300 persons in up to 3 sequential trials each, a shared frailty
/// per person so the rows of one person are correlated.
/// </summary>
public sealed class ClusteredVarianceTests
{
    public static TheoryData<string, TieMethod, string> FixturesAndTies => new()
    {
        { "clustered", TieMethod.Breslow, "breslow" },
        { "clustered", TieMethod.Efron, "efron" },
        { "clustered-ties", TieMethod.Breslow, "breslow" },
        { "clustered-ties", TieMethod.Efron, "efron" },
    };

    public static TheoryData<string, int, string> FixturesAndArms => new()
    {
        { "clustered", 1, "km_treated" },
        { "clustered", 0, "km_control" },
        { "clustered-ties", 1, "km_treated" },
        { "clustered-ties", 0, "km_control" },
    };

    [Theory]
    [MemberData(nameof(FixturesAndTies))]
    public void Cox_with_clusters_matches_coxph_cluster_by_person(string fixture, TieMethod ties, string key)
    {
        var d = ClusteredRows.Load(fixture);
        var fit = CoxModel.Fit(d.Time, d.Event, d.X, d.Weight, ties, d.PersonId);
        var e = d.Expected.GetProperty(key);
        Close.Assert(e.GetProperty("log_hr").GetDouble(), fit.LogHr, $"{key} log HR");
        Close.Assert(e.GetProperty("se_naive").GetDouble(), fit.SeNaive, $"{key} naive SE");
        Close.Assert(e.GetProperty("se_cluster").GetDouble(), fit.SeRobust, $"{key} clustered SE");
    }

    [Theory]
    [MemberData(nameof(FixturesAndTies))]
    public void Cox_with_a_cluster_per_row_is_the_per_row_sandwich_and_differs_from_the_clustered_one(string fixture, TieMethod ties, string key)
    {
        var d = ClusteredRows.Load(fixture);
        var rowIds = Enumerable.Range(0, d.Time.Length).Select(i => (long)i).ToArray();
        var perRow = CoxModel.Fit(d.Time, d.Event, d.X, d.Weight, ties, rowIds);
        var unclustered = CoxModel.Fit(d.Time, d.Event, d.X, d.Weight, ties);
        var e = d.Expected.GetProperty(key);
        Close.Assert(e.GetProperty("se_per_row").GetDouble(), perRow.SeRobust, $"{key} per-row SE");
        Close.Assert(e.GetProperty("se_per_row").GetDouble(), unclustered.SeRobust, $"{key} robust = TRUE SE");
        Assert.True(Math.Abs(e.GetProperty("se_cluster").GetDouble() - perRow.SeRobust) > 1e-3, "persons repeat, so the clustered SE must differ");
    }

    [Fact]
    public void Cox_and_km_reject_a_cluster_vector_of_the_wrong_length()
    {
        var d = ClusteredRows.Instance;
        Assert.Throws<ArgumentException>(() => CoxModel.Fit(d.Time, d.Event, d.X, d.Weight, TieMethod.Efron, [1, 2, 3]));
        Assert.Throws<ArgumentException>(() => KaplanMeier.Fit(d.Time, d.Event, d.Weight, [1, 2, 3]));
    }

    [Theory]
    [MemberData(nameof(FixturesAndArms))]
    public void Km_with_clusters_matches_survfit_with_id_and_robust_variance(string fixture, int arm, string key)
    {
        var d = ClusteredRows.Load(fixture);
        var curve = KaplanMeier.Fit(d.Arm(d.Time, arm), d.Arm(d.Event, arm), d.Arm(d.Weight, arm), d.Arm(d.PersonId, arm));
        var perRow = KaplanMeier.Fit(d.Arm(d.Time, arm), d.Arm(d.Event, arm), d.Arm(d.Weight, arm));
        var differs = false;
        foreach (var row in d.Expected.GetProperty(key).EnumerateArray())
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
        var d = ClusteredRows.Instance;
        var time = d.Arm(d.Time, 1);
        var cif = CumulativeIncidence.Fit(time, d.Arm(d.Event, 1), d.Arm(d.Weight, 1), d.Arm(d.PersonId, 1));
        Assert.Equal(0.0, cif.RiskAt(0.5));
        foreach (var row in d.Expected.GetProperty("km_treated").EnumerateArray())
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
