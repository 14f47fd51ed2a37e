using RwePortal.Analytics.Effects;
using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Survival;
using RwePortal.Analytics.Tests.Support;

namespace RwePortal.Analytics.Tests.Pipeline;

public sealed class PsAnalysisClusteringTests
{
    [Fact]
    public void Persons_in_several_rows_get_the_variance_clustered_by_person_in_cox_and_km()
    {
        // The clustered rows (persons repeating across trials) with an age-like covariate to fit a PS on.
        var d = ClusteredRows.Instance;
        var random = new Random(3);
        var covariate = d.Treatment.Select(t => Math.Round(random.NextDouble() + (0.3 * t), 4)).ToArray();
        var cohort = new Cohort(d.PersonId, d.Treatment, d.Time, d.Event, ["score"], [covariate]);
        var outcome = PsAnalysis.Run(cohort, new PsAnalysisOptions());
        Assert.True(outcome.Succeeded, outcome.Failure?.Message);
        var r = outcome.Result!;

        var clustered = CoxModel.Fit(d.Time, d.Event, d.X, r.PersonWeights, TieMethod.Efron, d.PersonId);
        var perRow = CoxModel.Fit(d.Time, d.Event, d.X, r.PersonWeights, TieMethod.Efron);
        Close.Assert(clustered.SeRobust, r.CoxEfron.SeRobust, "Efron SE clustered by person");
        Assert.True(Math.Abs(perRow.SeRobust - r.CoxEfron.SeRobust) > 1e-4);

        var arm = d.Treatment.Select((t, i) => (t, i)).Where(x => x.t == 1).Select(x => x.i).ToArray();
        var km = KaplanMeier.Fit(
            arm.Select(i => d.Time[i]).ToArray(), arm.Select(i => d.Event[i]).ToArray(), arm.Select(i => r.PersonWeights[i]).ToArray(), arm.Select(i => d.PersonId[i]).ToArray());
        Close.Assert(km.At(365)!.StdErrLog, r.CurveTreated.At(365)!.StdErrLog, "KM se at 365 days clustered by person");
    }

    [Fact]
    public void Mdrr_is_reported_on_everyone_when_weighting_and_on_the_matched_when_matching()
    {
        var f = RFixture.Load("att");
        var weighted = PsAnalysis.Run(f.Cohort, f.Options).Result!;
        Close.Assert(Mdrr.Compute(weighted.Counts.Treated, weighted.Counts.Control, weighted.Counts.EventsTreated + weighted.Counts.EventsControl), weighted.Mdrr, "MDRR weighting");

        var matched = PsAnalysis.Run(f.Cohort, f.Options with { Adjustment = Adjustment.Matching }).Result!;
        var kept = Enumerable.Range(0, f.Cohort.Count).Where(i => matched.PersonWeights[i] > 0).ToArray();
        var treated = kept.Count(i => f.Cohort.Treatment[i] == 1);
        Assert.Equal(matched.MatchedPairs, treated);
        Close.Assert(Mdrr.Compute(treated, kept.Length - treated, kept.Sum(i => f.Cohort.Event[i])), matched.Mdrr, "MDRR matching");
        Assert.True(matched.Mdrr > weighted.Mdrr);
    }
}
