using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Survival;
using RwePortal.Analytics.Tests.Support;

namespace RwePortal.Analytics.Tests.Pipeline;

/// <summary>
/// The whole pipeline on each R fixture, field by field against the numbers R's glm, survfit and coxph
/// produced (expected.json, weights.csv), to 1e-6 relative / 1e-9 absolute.
/// </summary>
public sealed class PsAnalysisAgreesWithRTests
{
    public static TheoryData<string> Fixtures => ["ate-stabilized", "att", "overlap", "ate-truncated"];

    private static (RFixture Fixture, PsAnalysisResult Result) Run(string name)
    {
        var fixture = RFixture.Load(name);
        var outcome = PsAnalysis.Run(fixture.Cohort, fixture.Options);
        Assert.True(outcome.Succeeded, outcome.Failure?.Message);
        return (fixture, outcome.Result!);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Counts_match_R(string name)
    {
        var (f, r) = Run(name);
        Assert.Equal((int)f.Number("counts", "treated"), r.Counts.Treated);
        Assert.Equal((int)f.Number("counts", "control"), r.Counts.Control);
        Assert.Equal((int)f.Number("counts", "events_treated"), r.Counts.EventsTreated);
        Assert.Equal((int)f.Number("counts", "events_control"), r.Counts.EventsControl);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Propensity_coefficients_and_c_statistic_match_glm(string name)
    {
        var (f, r) = Run(name);
        var expected = f.Expected.GetProperty("propensity").GetProperty("coefficients").EnumerateObject().ToList();
        Assert.Equal(expected.Select(e => e.Name), r.Propensity.Names);
        for (var j = 0; j < expected.Count; j++)
        {
            Close.Assert(expected[j].Value.GetDouble(), r.Propensity.Coefficients[j], $"{name} coefficient {expected[j].Name}");
        }

        Close.Assert(f.Number("propensity", "c_statistic"), r.Propensity.CStatistic, $"{name} c-statistic");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Every_persons_ps_and_weight_match_R(string name)
    {
        var (f, r) = Run(name);
        for (var i = 0; i < f.Cohort.Count; i++)
        {
            Close.Assert(f.RPs[i], r.PropensityScores[i], $"{name} ps of person {f.Cohort.PersonIds[i]}");
            Close.Assert(f.RWeight[i], r.PersonWeights[i], $"{name} weight of person {f.Cohort.PersonIds[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Weight_summary_matches_R(string name)
    {
        var (f, r) = Run(name);
        Close.Assert(f.Number("weights", "ess_treated"), r.Weights.EssTreated, "ess_treated");
        Close.Assert(f.Number("weights", "ess_control"), r.Weights.EssControl, "ess_control");
        Close.Assert(f.Number("weights", "min"), r.Weights.Min, "min");
        Close.Assert(f.Number("weights", "max"), r.Weights.Max, "max");
        Close.Assert(f.Number("weights", "sum_treated"), r.Weights.SumTreated, "sum_treated");
        Close.Assert(f.Number("weights", "sum_control"), r.Weights.SumControl, "sum_control");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Every_smd_before_and_after_matches_R(string name)
    {
        var (f, r) = Run(name);
        var expected = f.Expected.GetProperty("balance").EnumerateArray().ToList();
        Assert.Equal(expected.Count, r.Balance.Count);
        for (var j = 0; j < expected.Count; j++)
        {
            var cov = expected[j].GetProperty("covariate").GetString();
            Assert.Equal(cov, r.Balance[j].Covariate);
            Close.Assert(expected[j].GetProperty("smd_before").GetDouble(), r.Balance[j].SmdBefore, $"{name} smd_before {cov}");
            Close.Assert(expected[j].GetProperty("smd_after").GetDouble(), r.Balance[j].SmdAfter, $"{name} smd_after {cov}");
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Weighted_kaplan_meier_at_horizons_matches_survfit(string name)
    {
        var (f, r) = Run(name);
        foreach (var (arm, rows) in new[] { ("treated", r.KmTreated), ("control", r.KmControl) })
        {
            var expected = f.Expected.GetProperty("km").GetProperty(arm).EnumerateArray().ToList();
            Assert.Equal(expected.Count, rows.Count);
            for (var k = 0; k < expected.Count; k++)
            {
                Assert.Equal(expected[k].GetProperty("time").GetDouble(), rows[k].Time);
                Close.Assert(expected[k].GetProperty("survival").GetDouble(), rows[k].Survival, $"{name} KM {arm} at {rows[k].Time}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Cox_breslow_with_robust_se_matches_coxph(string name)
    {
        var (f, r) = Run(name);
        AssertCox(f, "cox_breslow", r.CoxBreslow);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Cox_efron_with_robust_se_matches_coxph(string name)
    {
        var (f, r) = Run(name);
        AssertCox(f, "cox_efron", r.CoxEfron);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Risks_at_horizons_match_R(string name)
    {
        var (f, r) = Run(name);
        var expected = f.Expected.GetProperty("risk").EnumerateArray().ToList();
        Assert.Equal(expected.Count, r.Risk.Count);
        for (var k = 0; k < expected.Count; k++)
        {
            var e = expected[k];
            var h = e.GetProperty("horizon").GetDouble();
            Assert.Equal(h, r.Risk[k].Horizon);
            Close.Assert(e.GetProperty("risk_treated").GetDouble(), r.Risk[k].RiskTreated, $"{name} risk_treated {h}");
            Close.Assert(e.GetProperty("risk_control").GetDouble(), r.Risk[k].RiskControl, $"{name} risk_control {h}");
            Close.Assert(e.GetProperty("risk_difference").GetDouble(), r.Risk[k].RiskDifference, $"{name} risk_difference {h}");
            Close.Assert(e.GetProperty("risk_ratio").GetDouble(), r.Risk[k].RiskRatio, $"{name} risk_ratio {h}");
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Outcome_commonness_and_e_values_match_R(string name)
    {
        var (f, r) = Run(name);
        Assert.Equal(f.Expected.GetProperty("outcome_common").GetBoolean(), r.OutcomeCommon);
        Close.Assert(f.Number("e_value", "point"), r.EValue.Point, $"{name} E-value point");
        Close.Assert(f.Number("e_value", "ci"), r.EValue.Ci, $"{name} E-value CI");
    }

    private static void AssertCox(RFixture f, string key, CoxFit fit)
    {
        Assert.True(fit.Converged);
        Close.Assert(f.Number(key, "hr"), fit.Hr, $"{f.Name} {key} hr");
        Close.Assert(f.Number(key, "log_hr"), fit.LogHr, $"{f.Name} {key} log_hr");
        Close.Assert(f.Number(key, "se_robust"), fit.SeRobust, $"{f.Name} {key} se_robust");
        Close.Assert(f.Number(key, "ci_lower"), fit.CiLower, $"{f.Name} {key} ci_lower");
        Close.Assert(f.Number(key, "ci_upper"), fit.CiUpper, $"{f.Name} {key} ci_upper");
        Close.Assert(f.Number(key, "p_value"), fit.PValue, $"{f.Name} {key} p_value");
    }
}
