using RwePortal.Analytics.Effects;
using RwePortal.Analytics.Tests.Support;

namespace RwePortal.Analytics.Tests.Effects;

public sealed class MdrrTests
{
    /// <summary>Expected values from R: exp(sqrt((qnorm(0.975) + qnorm(0.8))^2 / (pA * pB * events))), CohortMethod's formula.</summary>
    [Theory]
    [InlineData(1000, 1000, 100, 1.7512276278427441)]
    [InlineData(300, 1700, 57, 2.8270369327241323)]
    [InlineData(5000, 20000, 1234, 1.2206483426700017)]
    public void Mdrr_matches_the_schoenfeld_formula_computed_in_R(long treated, long comparator, long events, double expected)
    {
        Close.Assert(expected, Mdrr.Compute(treated, comparator, events), $"MDRR {treated}/{comparator}/{events}");
    }

    [Fact]
    public void More_events_or_better_balance_between_arms_lower_the_mdrr()
    {
        Assert.True(Mdrr.Compute(1000, 1000, 400) < Mdrr.Compute(1000, 1000, 100));
        Assert.True(Mdrr.Compute(1000, 1000, 100) < Mdrr.Compute(200, 1800, 100));
    }

    [Fact]
    public void Without_events_or_with_an_empty_arm_nothing_is_detectable()
    {
        Assert.Equal(double.PositiveInfinity, Mdrr.Compute(1000, 1000, 0));
        Assert.Equal(double.PositiveInfinity, Mdrr.Compute(0, 1000, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mdrr.Compute(10, 10, 5, alpha: 0));
    }
}
