using CsCheck;
using RwePortal.Application.Common;
using RwePortal.Application.Privacy;

namespace RwePortal.Application.Tests.Common;

/// <summary>The policy without noise (registry counts), and the limits a policy is built within.</summary>
public sealed class SmallCellPolicyTests
{
    [Theory]
    [InlineData(0, "0", 0L)]
    [InlineData(1, "<11", null)]
    [InlineData(10, "<11", null)]
    [InlineData(11, "11", 11L)]
    [InlineData(2_694, "2,694", 2_694L)]
    public void Registry_counts_are_suppressed_below_11_and_exact_otherwise(long count, string display, long? value)
    {
        var shown = SmallCellPolicy.Default.Suppress(count);

        Assert.Equal((display, value), (shown.Display, shown.Value));
        Assert.Equal(display, SmallCellPolicy.Default.Display(count));
        Assert.Equal(value is null, SmallCellPolicy.Default.IsSuppressed(count));
    }

    [Fact]
    public void Suppression_follows_any_threshold_exactly()
    {
        Gen.Select(Gen.Long[0, 1_000], Gen.Int[SmallCellPolicy.MinimumThreshold, 100]).Sample((count, threshold) =>
        {
            var shown = new SmallCellPolicy(threshold).Suppress(count);
            var hidden = count >= 1 && count < threshold;
            Assert.Equal(hidden ? CellProtection.Suppressed : CellProtection.Exact, shown.Protection);
            Assert.Equal(hidden ? null : count, shown.Value);
        }, iter: 5_000);
    }

    [Fact]
    public void Negative_counts_and_thresholds_below_1_are_bugs()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SmallCellPolicy.Default.Suppress(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SmallCellPolicy(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SmallCellPolicy(11, new byte[32], noiseRange: -1));
    }
}
