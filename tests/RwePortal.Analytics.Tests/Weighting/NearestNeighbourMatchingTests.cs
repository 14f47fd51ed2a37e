using RwePortal.Analytics.Tests.Support;
using RwePortal.Analytics.Weighting;

namespace RwePortal.Analytics.Tests.Weighting;

public sealed class NearestNeighbourMatchingTests
{
    private static double Logit(double p) => Math.Log(p / (1 - p));

    [Fact]
    public void Each_treated_takes_the_nearest_free_control_within_the_caliper_and_no_control_twice()
    {
        // Treated at 0.60 and 0.59 both want the control at 0.595; the higher PS goes first and gets it,
        // the other falls back to the next nearest (0.57). The treated at 0.95 has nobody within the caliper.
        double[] ps = [0.60, 0.59, 0.95, 0.595, 0.57, 0.30, 0.20, 0.10];
        int[] t = [1, 1, 1, 0, 0, 0, 0, 0];
        var result = NearestNeighbourMatching.Match(ps, t, caliperSd: 0.2);

        Assert.Equal([(0, 3), (1, 4)], result.Pairs);
        Assert.Equal([1, 1, 0, 1, 1, 0, 0, 0], result.Weights);
        var logits = ps.Select(Logit).ToArray();
        var mean = logits.Average();
        var sd = Math.Sqrt(logits.Sum(l => (l - mean) * (l - mean)) / (ps.Length - 1));
        Assert.Equal(0.2 * sd, result.Caliper, 12);
    }

    [Fact]
    public void Matched_pairs_on_an_R_fixture_are_all_within_the_caliper_and_use_distinct_controls()
    {
        var f = RFixture.Load("att");
        var result = NearestNeighbourMatching.Match(f.RPs, f.Cohort.Treatment);
        Assert.InRange(result.Pairs.Count, 600, f.Cohort.Treatment.Count(x => x == 1));
        Assert.Equal(result.Pairs.Count, result.Pairs.Select(p => p.Control).Distinct().Count());
        Assert.All(result.Pairs, p =>
        {
            Assert.Equal(1, f.Cohort.Treatment[p.Treated]);
            Assert.Equal(0, f.Cohort.Treatment[p.Control]);
            Assert.True(Math.Abs(Logit(f.RPs[p.Treated]) - Logit(f.RPs[p.Control])) <= result.Caliper);
        });
    }
}
