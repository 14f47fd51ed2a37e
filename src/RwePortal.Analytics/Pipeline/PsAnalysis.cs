using RwePortal.Analytics.Balance;
using RwePortal.Analytics.Effects;
using RwePortal.Analytics.Propensity;
using RwePortal.Analytics.Survival;
using RwePortal.Analytics.Weighting;

namespace RwePortal.Analytics.Pipeline;

/// <summary>
/// The propensity-score outcome analysis end to end: PS model, weights (or matching/strata), balance, weighted
/// Kaplan–Meier, weighted Cox (Breslow and Efron, robust SE), risks at horizons and E-values. A covariate that
/// (almost) perfectly predicts treatment is left out of the PS model and named rather than stopping the analysis
/// (docs/decisions/1022-separating-covariates-are-removed.md); balance is still reported for it.
/// </summary>
public static class PsAnalysis
{
    public static PsAnalysisOutcome Run(Cohort cohort, PsAnalysisOptions options)
    {
        var invalid = Validate(cohort);
        if (invalid is not null)
        {
            return invalid;
        }

        var removed = new List<RemovedPsCovariate>();
        var kept = Enumerable.Range(0, cohort.Covariates.Count).ToList();
        foreach (var (index, separation) in SeparationCheck.AllBeforeFit(cohort.Covariates, cohort.CovariateNames, cohort.Treatment))
        {
            if (!options.RemoveSeparatingCovariates)
            {
                return PsAnalysisOutcome.Fail("Propensity.Separation", separation.Reason, separation.Covariate);
            }

            removed.Add(new RemovedPsCovariate(separation.Covariate, separation.Reason));
            kept.Remove(index);
        }

        // A combination of covariates can still separate: leave out the one the check names and refit.
        while (true)
        {
            if (kept.Count == 0 && removed.Count > 0)
            {
                return PsAnalysisOutcome.Fail(
                    "Propensity.Separation",
                    $"Every covariate separates the arms, so no propensity model is left: {string.Join("; ", removed.Select(r => r.Reason))}",
                    removed[0].Covariate);
            }

            var columns = kept.Select(j => cohort.Covariates[j]).ToList();
            var names = kept.Select(j => cohort.CovariateNames[j]).ToList();
            LogisticFit fit;
            try
            {
                fit = LogisticRegression.Fit(columns, names, cohort.Treatment);
            }
            catch (ArgumentException ex)
            {
                return PsAnalysisOutcome.Fail("Propensity.Failed", ex.Message);
            }

            var separation = SeparationCheck.AfterFit(fit, columns);
            if (separation is null)
            {
                var outcome = Analyse(cohort, options, fit.Fitted, new PropensitySummary(fit.Names, fit.Coefficients, 0, 0, fit.Iterations));
                return outcome.Result is { } result ? PsAnalysisOutcome.Success(result with { RemovedCovariates = removed }) : outcome;
            }

            if (!options.RemoveSeparatingCovariates)
            {
                return PsAnalysisOutcome.Fail("Propensity.Separation", separation.Reason, separation.Covariate);
            }

            removed.Add(new RemovedPsCovariate(separation.Covariate, separation.Reason));
            kept.RemoveAt(names.IndexOf(separation.Covariate));
        }
    }

    /// <summary>
    /// The same analysis with the propensity model fitted on high-dimensional sparse 0/1 covariates by penalised
    /// (L1 or L2) logistic regression, λ chosen by cross-validation. Dense covariates of <paramref name="cohort"/>
    /// (if any) are only used for balance; balance is also reported for every sparse column.
    /// </summary>
    public static PsAnalysisOutcome RunPenalized(Cohort cohort, SparseBinaryMatrix covariates, PsAnalysisOptions options, PenalizedOptions penalty)
    {
        var invalid = Validate(cohort);
        if (invalid is not null)
        {
            return invalid;
        }

        if (covariates.Rows != cohort.Count)
        {
            return PsAnalysisOutcome.Fail("Cohort.Invalid", "The sparse covariates must have one row per person.");
        }

        var flagged = SeparationCheck.HighlyCorrelated(covariates, cohort.Treatment, options.HighCorrelationThreshold);
        if (flagged.Count > 0 && !options.RemoveSeparatingCovariates)
        {
            return PsAnalysisOutcome.Fail("Propensity.Separation", flagged[0].Separation.Reason, flagged[0].Separation.Covariate);
        }

        var removed = flagged.Select(f => new RemovedPsCovariate(f.Separation.Covariate, f.Separation.Reason)).ToList();
        var model = covariates;
        if (flagged.Count > 0)
        {
            var drop = flagged.Select(f => f.Index).ToHashSet();
            var keep = Enumerable.Range(0, covariates.Columns).Where(j => !drop.Contains(j)).ToArray();
            if (keep.Length == 0)
            {
                return PsAnalysisOutcome.Fail(
                    "Propensity.Separation",
                    $"Every covariate almost perfectly predicts treatment, so no propensity model is left: {string.Join("; ", removed.Select(r => r.Reason))}",
                    removed[0].Covariate);
            }

            model = SparseBinaryMatrix.FromColumns(covariates.Rows, [.. keep.Select(j => covariates.Column(j).ToArray())], [.. keep.Select(j => covariates.Names[j])]);
        }

        var cv = PenalizedLogisticRegression.FitCrossValidated(model, cohort.Treatment, penalty);
        var names = new List<string> { "(Intercept)" };
        var coefficients = new List<double> { cv.Fit.Intercept };
        for (var j = 0; j < model.Columns; j++)
        {
            if (cv.Fit.Coefficients[j] != 0)
            {
                names.Add(model.Names[j]);
                coefficients.Add(cv.Fit.Coefficients[j]);
            }
        }

        var outcome = Analyse(cohort, options, cv.Fit.Fitted, new PropensitySummary(names, coefficients, 0, 0, cv.Fit.Sweeps));
        if (outcome.Result is not { } result)
        {
            return outcome;
        }

        // Balance is reported for every column, the removed ones included: their imbalance is what the reader must see.
        var balance = result.Balance.Concat(SparseCovariateBalance.Compute(covariates, cohort.Treatment, result.PersonWeights)).ToList();
        return PsAnalysisOutcome.Success(result with
        {
            Balance = balance,
            Diagnostics = Diagnose(balance, result.Diagnostics.Equipoise, options),
            RemovedCovariates = removed,
        });
    }

    /// <summary>
    /// Runs everything after the propensity model on given propensity scores (from the dense fit, a penalised
    /// sparse fit, or elsewhere). <paramref name="model"/> carries the coefficients to report.
    /// </summary>
    public static PsAnalysisOutcome Analyse(Cohort cohort, PsAnalysisOptions options, double[] ps, PropensitySummary model)
    {
        var invalid = Validate(cohort);
        if (invalid is not null)
        {
            return invalid;
        }

        var t = cohort.Treatment;
        var n = cohort.Count;
        var n1 = t.Sum();
        var cStat = PropensityDiagnostics.CStatistic(ps, t);
        var equipoise = PropensityDiagnostics.Equipoise(PropensityDiagnostics.PreferenceScores(ps, (double)n1 / n));

        double[] weights;
        var pairs = 0;
        try
        {
            switch (options.Adjustment)
            {
                case Adjustment.Matching:
                    var match = NearestNeighbourMatching.Match(ps, t, options.CaliperSd);
                    weights = match.Weights;
                    pairs = match.Pairs.Count;
                    if (pairs == 0)
                    {
                        return PsAnalysisOutcome.Fail("Adjustment.Failed", "No treated person has a control within the caliper.");
                    }

                    break;
                case Adjustment.Stratification:
                    weights = PsStratification.Stratify(ps, t, options.Estimand, options.Strata).Weights;
                    break;
                default:
                    weights = PsWeights.Compute(ps, t, options.Estimand);
                    break;
            }
        }
        catch (InvalidOperationException ex)
        {
            return PsAnalysisOutcome.Fail("Adjustment.Failed", ex.Message);
        }

        if (options.Truncation is { } trunc)
        {
            weights = PsWeights.Truncate(weights, trunc.Low, trunc.High);
        }

        var balance = CovariateBalance.Compute(cohort.CovariateNames, cohort.Covariates, t, weights);
        // Variances are clustered by person: a person who appears in several rows (sequential trials) is one cluster;
        // with one row per person this is the per-row sandwich.
        var km1 = KaplanMeier.Fit(Subset(cohort.Time, t, 1), Subset(cohort.Event, t, 1), Subset(weights, t, 1), Subset(cohort.PersonIds, t, 1));
        var km0 = KaplanMeier.Fit(Subset(cohort.Time, t, 0), Subset(cohort.Event, t, 0), Subset(weights, t, 0), Subset(cohort.PersonIds, t, 0));
        var x = new double[n];
        for (var i = 0; i < n; i++)
        {
            x[i] = t[i];
        }

        var breslow = CoxModel.Fit(cohort.Time, cohort.Event, x, weights, TieMethod.Breslow, cohort.PersonIds);
        var efron = CoxModel.Fit(cohort.Time, cohort.Event, x, weights, TieMethod.Efron, cohort.PersonIds);
        var events = cohort.Event.Sum();
        var common = (double)events / n >= EValue.CommonOutcomeShare;
        var eValue = EValue.FromHazardRatio(efron.Hr, efron.CiLower, efron.CiUpper, common);

        var diagnostics = Diagnose(balance, equipoise, options);

        var eventsTreated = 0;
        long kept1 = 0, kept0 = 0, keptEvents = 0;
        for (var i = 0; i < n; i++)
        {
            eventsTreated += t[i] == 1 ? cohort.Event[i] : 0;
            if (weights[i] > 0)
            {
                kept1 += t[i];
                kept0 += 1 - t[i];
                keptEvents += cohort.Event[i];
            }
        }

        var result = new PsAnalysisResult(
            options.Estimand,
            options.Adjustment,
            options.Truncation,
            new ArmCounts(n1, n - n1, eventsTreated, events - eventsTreated),
            model with { CStatistic = cStat, Equipoise = equipoise },
            PsWeights.Summarize(weights, t),
            balance,
            AtHorizons(km1, options.Horizons),
            AtHorizons(km0, options.Horizons),
            km1,
            km0,
            RiskTable(cohort, weights, options.RiskTableTimes),
            breslow,
            efron,
            RiskEffects.Compute(km1, km0, options.Horizons),
            common,
            eValue,
            diagnostics,
            pairs,
            ps,
            weights)
        {
            Mdrr = Mdrr.Compute(kept1, kept0, keptEvents),
        };
        return PsAnalysisOutcome.Success(result);
    }

    private static Diagnostics Diagnose(IReadOnlyList<BalanceRow> balance, double equipoise, PsAnalysisOptions options) => new(
        balance.Count == 0 ? 0 : balance.Max(b => Math.Abs(b.SmdAfter)),
        balance.All(b => Math.Abs(b.SmdAfter) < options.SmdThreshold),
        equipoise,
        equipoise >= options.EquipoiseThreshold,
        [.. balance.Where(b => !(Math.Abs(b.SmdAfter) < options.SmdThreshold)).Select(b => b.Covariate)]);

    /// <summary>Checks the cohort's shape and values; the CLI reports file positions before this runs.</summary>
    public static PsAnalysisOutcome? Validate(Cohort cohort)
    {
        var n = cohort.Count;
        if (cohort.Treatment.Length != n || cohort.Time.Length != n || cohort.Event.Length != n
            || cohort.Covariates.Count != cohort.CovariateNames.Count || cohort.Covariates.Any(c => c.Length != n))
        {
            return PsAnalysisOutcome.Fail("Cohort.Invalid", "Every column must have one value per person.");
        }

        var n1 = 0;
        for (var i = 0; i < n; i++)
        {
            if (cohort.Treatment[i] is not (0 or 1))
            {
                return PsAnalysisOutcome.Fail("Cohort.Invalid", $"Person {cohort.PersonIds[i]}: treatment must be 0 or 1.");
            }

            if (cohort.Event[i] is not (0 or 1))
            {
                return PsAnalysisOutcome.Fail("Cohort.Invalid", $"Person {cohort.PersonIds[i]}: event must be 0 or 1.");
            }

            if (!(cohort.Time[i] > 0) || !double.IsFinite(cohort.Time[i]))
            {
                return PsAnalysisOutcome.Fail("Cohort.Invalid", $"Person {cohort.PersonIds[i]}: time must be a positive number of days.");
            }

            n1 += cohort.Treatment[i];
        }

        if (n1 == 0 || n1 == n)
        {
            return PsAnalysisOutcome.Fail("Cohort.ArmEmpty", $"The {(n1 == 0 ? "treated" : "control")} arm is empty.");
        }

        for (var j = 0; j < cohort.Covariates.Count; j++)
        {
            foreach (var v in cohort.Covariates[j])
            {
                if (!double.IsFinite(v))
                {
                    return PsAnalysisOutcome.Fail("Cohort.Invalid", $"Covariate '{cohort.CovariateNames[j]}' has a missing or non-finite value.");
                }
            }
        }

        return null;
    }

    private static List<SurvivalAtHorizon> AtHorizons(KmCurve curve, IReadOnlyList<double> horizons) =>
        [.. horizons.Select(h => curve.At(h) is { } p
            ? new SurvivalAtHorizon(h, p.Survival, p.Lower, p.Upper)
            : new SurvivalAtHorizon(h, 1.0, 1.0, 1.0))];

    private static List<NumbersAtRisk> RiskTable(Cohort cohort, double[] weights, IReadOnlyList<double> times)
    {
        var rows = new List<NumbersAtRisk>(times.Count);
        foreach (var time in times)
        {
            int n1 = 0, n0 = 0;
            double w1 = 0, w0 = 0;
            for (var i = 0; i < cohort.Count; i++)
            {
                if (cohort.Time[i] < time)
                {
                    continue;
                }

                if (cohort.Treatment[i] == 1)
                {
                    n1++;
                    w1 += weights[i];
                }
                else
                {
                    n0++;
                    w0 += weights[i];
                }
            }

            rows.Add(new NumbersAtRisk(time, n1, n0, w1, w0));
        }

        return rows;
    }

    private static T[] Subset<T>(T[] values, int[] treatment, int arm)
    {
        var result = new List<T>();
        for (var i = 0; i < values.Length; i++)
        {
            if (treatment[i] == arm)
            {
                result.Add(values[i]);
            }
        }

        return [.. result];
    }
}
