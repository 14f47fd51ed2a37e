using RwePortal.Analytics.Tests.Support;
using RwePortal.Analytics.Weighting;

namespace RwePortal.Analytics.Tests.Weighting;

public sealed class PsStratificationTests
{
    [Fact]
    public void Quintiles_hold_a_fifth_of_the_cohort_each_and_ATE_weights_give_each_arm_the_overall_stratum_mix()
    {
        var f = RFixture.Load("ate-stabilized");
        var t = f.Cohort.Treatment;
        var result = PsStratification.Stratify(f.RPs, t, Estimand.Ate);
        var n = t.Length;
        for (var s = 0; s < 5; s++)
        {
            var size = result.TreatedPerStratum[s] + result.ControlPerStratum[s];
            Assert.InRange(size, (n / 5) - 1, (n / 5) + 1);
            foreach (var arm in new[] { 0, 1 })
            {
                double inStratum = 0, total = 0;
                for (var i = 0; i < n; i++)
                {
                    if (t[i] == arm)
                    {
                        total += result.Weights[i];
                        inStratum += result.Stratum[i] == s ? result.Weights[i] : 0;
                    }
                }

                Assert.Equal((double)size / n, inStratum / total, 12);
            }
        }
    }

    [Fact]
    public void ATT_strata_weights_keep_treated_at_one_and_give_controls_the_treated_stratum_mix()
    {
        var f = RFixture.Load("att");
        var t = f.Cohort.Treatment;
        var result = PsStratification.Stratify(f.RPs, t, Estimand.Att);
        var n1 = t.Count(x => x == 1);
        Assert.All(Enumerable.Range(0, t.Length).Where(i => t[i] == 1), i => Assert.Equal(1.0, result.Weights[i]));
        for (var s = 0; s < 5; s++)
        {
            var controlWeight = Enumerable.Range(0, t.Length).Where(i => t[i] == 0 && result.Stratum[i] == s).Sum(i => result.Weights[i]);
            var controlTotal = Enumerable.Range(0, t.Length).Where(i => t[i] == 0).Sum(i => result.Weights[i]);
            Assert.Equal((double)result.TreatedPerStratum[s] / n1, controlWeight / controlTotal, 12);
        }
    }

    [Fact]
    public void A_stratum_without_controls_is_an_error_naming_the_stratum()
    {
        double[] ps = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
        int[] t = [0, 1, 0, 1, 0, 1, 0, 1, 1, 1];
        var ex = Assert.Throws<InvalidOperationException>(() => PsStratification.Stratify(ps, t, Estimand.Ate));
        Assert.Contains("stratum 5", ex.Message, StringComparison.Ordinal);
    }
}
