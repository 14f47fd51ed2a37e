using RwePortal.Analytics.Effects;

namespace RwePortal.Analytics.Tests.Effects;

public sealed class EValueTests
{
    [Fact]
    public void Rare_outcome_uses_the_hazard_ratio_as_risk_ratio_and_inverts_protective_effects()
    {
        // VanderWeele & Ding: RR = 2 gives 2 + sqrt(2); HR 0.5 is RR 2 after inversion.
        var e = EValue.FromHazardRatio(0.5, 0.4, 0.8, outcomeCommon: false);
        Assert.Equal(2 + Math.Sqrt(2), e.Point, 12);
        Assert.Equal(1.25 + Math.Sqrt(1.25 * 0.25), e.Ci, 12);
    }

    [Fact]
    public void Confidence_interval_containing_one_has_an_e_value_of_one()
    {
        Assert.Equal(1.0, EValue.FromHazardRatio(0.9, 0.7, 1.1, outcomeCommon: true).Ci);
    }

    [Fact]
    public void Common_outcome_converts_hazard_ratio_with_the_square_root_formula()
    {
        var hr = 0.7;
        var rr = (1 - Math.Pow(0.5, Math.Sqrt(hr))) / (1 - Math.Pow(0.5, Math.Sqrt(1 / hr)));
        Assert.Equal(rr, EValue.ToRiskRatio(hr, outcomeCommon: true), 14);
        Assert.Equal((1 / rr) + Math.Sqrt((1 / rr) * ((1 / rr) - 1)), EValue.FromHazardRatio(hr, 0.6, 0.8, true).Point, 12);
    }
}
