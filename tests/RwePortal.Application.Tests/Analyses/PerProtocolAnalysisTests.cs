using RwePortal.Application.Analyses;
using RwePortal.Warehouse.Analyses;

namespace RwePortal.Application.Tests.Analyses;

/// <summary>
/// The per-protocol statistics (decisions 1090–1092) on planted person-periods: the weighted pooled logistic model
/// against its closed form, censoring weights recomputed by hand from the fitted models, the expansion into sequential
/// trials and the curves.
/// </summary>
public sealed class PerProtocolAnalysisTests
{
    private static double Expit(double eta) => 1 / (1 + Math.Exp(-eta));

    private static double Logit(double p) => Math.Log(p / (1 - p));

    [Fact]
    public void The_weighted_pooled_logistic_model_of_arm_alone_is_the_weighted_log_odds_with_the_clustered_sandwich_in_closed_form()
    {
        // Persons (clusters) with several rows; weights vary by row.
        var rows = Enumerable.Range(0, 300).Select(k => (Cluster: (long)(k / 3), Arm: (k / 3) % 2, Y: (k * 7 % 11) < (((k / 3) % 2) == 1 ? 2 : 4) ? 1 : 0, W: 0.5 + (k % 5 * 0.3))).ToList();
        var fit = WeightedPooledLogistic.Fit([[.. rows.Select(r => (double)r.Arm)]], ["arm"], [.. rows.Select(r => r.Y)], [.. rows.Select(r => r.W)], [.. rows.Select(r => r.Cluster)]);

        double P(int arm) => rows.Where(r => r.Arm == arm).Sum(r => r.W * r.Y) / rows.Where(r => r.Arm == arm).Sum(r => r.W);
        double Var(int arm)
        {
            var p = P(arm);
            var information = rows.Where(r => r.Arm == arm).Sum(r => r.W * p * (1 - p));
            var meat = rows.Where(r => r.Arm == arm).GroupBy(r => r.Cluster).Sum(g => Math.Pow(g.Sum(r => r.W * (r.Y - p)), 2));
            return meat / (information * information);
        }

        var g = rows.Select(r => r.Cluster).Distinct().Count();
        var adjust = g / (g - 1.0);
        Assert.True(fit.Converged);
        Assert.Equal(Logit(P(0)), fit.Coefficients[0], 10);
        Assert.Equal(Logit(P(1)) - Logit(P(0)), fit.Coefficients[1], 10);
        Assert.Equal(adjust * Var(0), fit.Covariance[0, 0], 10);
        Assert.Equal(adjust * (Var(0) + Var(1)), fit.Covariance[1, 1], 10);
        Assert.Equal(g, fit.Clusters);
    }

    /// <summary>40 planted persons, half treated, 1–6 periods; every third deviates in their last period, some have the outcome.</summary>
    private static (PersonPeriodData Data, double[] Ps, double[] Weights) Planted()
    {
        var rows = new List<PersonPeriodRow>();
        for (var i = 0; i < 40; i++)
        {
            var n = 1 + ((i * 5) % 6);
            var censored = i % 3 == 0;
            var outcome = !censored && i % 5 == 0;
            for (var k = 0; k < n; k++)
            {
                rows.Add(new PersonPeriodRow(i, 1000 + i, i < 20, k, k * 30, (k * 30) + 29, outcome && k == n - 1, censored && k == n - 1,
                    [(i + k) % 4 == 0 ? 1 : 0, (k + i) % 2]));
            }
        }

        return (new PersonPeriodData(30, PersonPeriodExtractor.TimeVaryingNames, rows),
            [.. Enumerable.Range(0, 40).Select(i => 0.3 + (0.01 * i))],
            [.. Enumerable.Range(0, 40).Select(i => 1 + (i % 3 * 0.1))]);
    }

    [Fact]
    public void Censoring_weights_equal_the_cumulative_ratios_recomputed_by_hand_from_the_fitted_models_and_their_score_is_zero()
    {
        var (data, ps, weights) = Planted();
        var result = PerProtocolAnalysis.Run(data, weights, ps, [90], 180, 1, 7);
        var numerator = result.Censoring.Numerator!;
        var denominator = result.Censoring.Denominator!;
        Assert.Equal(["(Intercept)", "arm", "logit PS", "period", "I(period^2)"], numerator.Names);
        Assert.Equal(["(Intercept)", "arm", "logit PS", "inpatient admission in the previous period", "own-strategy dispensing in the previous period", "period", "I(period^2)"], denominator.Names);

        double[] Numerator(PersonPeriodRow r) => [1, r.Treated ? 1 : 0, Logit(ps[r.Member]), r.Period, r.Period * r.Period];
        double[] Denominator(PersonPeriodRow r) => [1, r.Treated ? 1 : 0, Logit(ps[r.Member]), r.TimeVarying[0], r.TimeVarying[1], r.Period, r.Period * r.Period];
        double Predict(IReadOnlyList<double> beta, double[] x) => Expit(x.Select((v, j) => v * beta[j]).Sum());

        // Maximum likelihood: the score of each model of remaining uncensored is zero at its coefficients.
        foreach (var (beta, design) in new[] { (numerator.Coefficients, (Func<PersonPeriodRow, double[]>)Numerator), (denominator.Coefficients, Denominator) })
        {
            for (var j = 0; j < beta.Count; j++)
            {
                var score = data.Rows.Sum(r => ((r.CensoredAtEnd ? 0 : 1) - Predict(beta, design(r))) * design(r)[j]);
                Assert.True(Math.Abs(score) < 1e-4, $"score {j}: {score}");
            }
        }

        // W(period) / W(trial) = the product of p_num / p_den over the periods after the trial's start up to this one.
        foreach (var person in data.Rows.GroupBy(r => r.PersonId))
        {
            var own = person.OrderBy(r => r.Period).ToList();
            var ratio = own.Select(r => Predict(numerator.Coefficients, Numerator(r)) / Predict(denominator.Coefficients, Denominator(r))).ToList();
            for (var trial = 0; trial < own.Count; trial++)
            {
                var product = 1.0;
                for (var p = trial; p < own.Count; p++)
                {
                    product *= p > trial ? ratio[p] : 1;
                    Assert.Equal(product, result.Censoring.TrialWeight(person.Key, trial, p), 10);
                }
            }
        }

        // The outcome model on the expansion written out here: every (trial, period) of each person, weight = clipped
        // TrialWeight × PS weight; the same coefficients as the analysis.
        var expanded = data.Rows.GroupBy(r => r.PersonId)
            .SelectMany(g => g.SelectMany(start => g.Where(r => r.Period >= start.Period).Select(r => (Row: r, Trial: start.Period))))
            .ToList();
        var (clipped, _, _) = Analytics.Weighting.CensoringWeights.Truncate(
            [.. expanded.Select(e => result.Censoring.TrialWeight(e.Row.PersonId, e.Trial, e.Row.Period))], new Analytics.Pipeline.Truncation(0.01, 0.99));
        var byHand = WeightedPooledLogistic.Fit(
            [[.. expanded.Select(e => e.Row.Treated ? 1.0 : 0)], [.. expanded.Select(e => (double)(e.Row.Period - e.Trial))], [.. expanded.Select(e => Math.Pow(e.Row.Period - e.Trial, 2))],
                [.. expanded.Select(e => (double)e.Trial)], [.. expanded.Select(e => (double)e.Trial * e.Trial)]],
            ["arm", "followup", "I(followup^2)", "trial", "I(trial^2)"],
            [.. expanded.Select(e => e.Row.Outcome ? 1 : 0)],
            [.. expanded.Select((e, k) => clipped[k] * weights[e.Row.Member])],
            [.. expanded.Select(e => e.Row.PersonId)]);
        Assert.Equal(byHand.Coefficients.Length, result.Model.Coefficients.Length);
        for (var j = 0; j < byHand.Coefficients.Length; j++)
        {
            Assert.Equal(byHand.Coefficients[j], result.Model.Coefficients[j], 8);
        }

        Assert.Equal(Math.Exp(byHand.Coefficients[1]), result.HazardRatio.Value, 8);
        Assert.Equal(data.Rows.GroupBy(r => r.Member).Sum(g => g.Count() * (g.Count() + 1) / 2), result.ExpandedRows);
        Assert.Equal(6, result.Trials);
        Assert.True(result.CensoringWeightSummary.Max <= result.CensoringWeightSummary.TruncatedAbove);
        Assert.Contains(result.Notes, n => n.Contains("6 sequential emulated trials", StringComparison.Ordinal));
    }

    [Fact]
    public void One_trial_at_time_zero_uses_every_person_period_once_and_curves_rise_inside_their_bands()
    {
        var (data, ps, weights) = Planted();
        var single = PerProtocolAnalysis.Run(data, weights, ps, [90], 180, 1, 7, new PerProtocolOptions { SequentialTrials = false });
        Assert.Equal(data.Rows.Count, single.ExpandedRows);
        Assert.Equal(1, single.Trials);
        Assert.Equal(4, single.Model.Coefficients.Length);
        Assert.Equal(Math.Exp(single.Model.Coefficients[1]), single.HazardRatio.Value, 12);
        Assert.InRange(single.HazardRatio.Value, single.HazardRatio.Lower, single.HazardRatio.Upper);

        foreach (var curve in single.Curves.Where(c => c.Kind == "cumulativeIncidence"))
        {
            Assert.Equal(0, curve.Estimate[0]);
            for (var j = 1; j < curve.Time.Count; j++)
            {
                Assert.True(curve.Estimate[j] >= curve.Estimate[j - 1]);
                Assert.InRange(curve.Estimate[j], curve.Lower[j], curve.Upper[j]);
            }

            var survival = single.Curves.Single(c => c.Kind == "survival" && c.Arm == curve.Arm);
            Assert.Equal(curve.Estimate.Select(v => 1 - v), survival.Estimate);
        }

        Assert.Equal(["treatment", "treatment", "comparator", "comparator"], single.Curves.Select(c => c.Arm));

        // The same inputs and seed give the same bands; a curve stops before a period with fewer persons at risk than the threshold.
        var again = PerProtocolAnalysis.Run(data, weights, ps, [90], 180, 1, 7, new PerProtocolOptions { SequentialTrials = false });
        Assert.Equal(single.Curves[1].Upper, again.Curves[1].Upper);
        var atRiskInPeriod3 = data.Rows.Count(r => r.Treated && r.Period == 3);
        var thresholded = PerProtocolAnalysis.Run(data, weights, ps, [90, 150], 180, atRiskInPeriod3 + 1, 7, new PerProtocolOptions { SequentialTrials = false });
        Assert.Equal(4, thresholded.Curves[1].Time.Count);   // time 0 and periods 0–2
        Assert.Equal([90], thresholded.Horizons.Select(h => h.Days));   // day 150 is in period 4, with fewer treated persons at risk
    }
}
