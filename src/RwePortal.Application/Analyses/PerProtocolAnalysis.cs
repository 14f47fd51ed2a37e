using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using RwePortal.Analytics.Effects;
using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Weighting;
using RwePortal.Warehouse.Analyses;

namespace RwePortal.Application.Analyses;

/// <summary>Options of the per-protocol analysis (decisions 1090–1092).</summary>
public sealed record PerProtocolOptions
{
    /// <summary>Every period a member starts on strategy opens an emulated trial (TrialEmulation's sequential trials); else one trial at time zero.</summary>
    public bool SequentialTrials { get; init; } = true;

    /// <summary>Quantiles (type 1) at which the expanded censoring weights are clipped, as TrialEmulation's p99_weight.</summary>
    public Truncation Truncation { get; init; } = new(0.01, 0.99);

    /// <summary>Coefficient draws for the bands of the cumulative-incidence curves and the risks at the horizons.</summary>
    public int Draws { get; init; } = 500;
}

/// <summary>Summary of weights: mean, maximum and the truncation limits.</summary>
public sealed record WeightSummary(double Mean, double Max, double TruncatedBelow, double TruncatedAbove);

/// <summary>
/// The per-protocol result: the hazard ratio of the weighted pooled logistic model (odds ratio of the discrete-time
/// hazard, robust variance clustered by person), the cumulative-incidence and survival curves per arm with 95% bands,
/// the risks at the horizons, the censoring models, the weights and the notes for the diagnostics.
/// </summary>
public sealed record PerProtocolResult(
    Estimate HazardRatio,
    PooledLogisticFit Model,
    CensoringWeightsResult Censoring,
    IReadOnlyList<SurvivalCurve> Curves,
    IReadOnlyList<HorizonEffect> Horizons,
    WeightSummary CensoringWeightSummary,
    WeightSummary CombinedWeightSummary,
    int Trials,
    int ExpandedRows,
    IReadOnlyList<string> Notes)
{
    /// <summary>The run's document with the per-protocol estimate, curves, horizons and notes in place of the censoring-only ones.</summary>
    public AnalysisResultDocument Apply(AnalysisResultDocument document, double outcomeShare)
    {
        ArgumentNullException.ThrowIfNull(document);
        var eValue = EValue.FromHazardRatio(HazardRatio.Value, HazardRatio.Lower, HazardRatio.Upper, outcomeShare >= EValue.CommonOutcomeShare);
        var censoringOnly = document.Estimates.HazardRatio;
        var notes = document.Diagnostics.Notes.Concat(Notes).Append(string.Create(CultureInfo.InvariantCulture,
            $"per-protocol: the PS-weighted Cox model with censoring only (not IPCW-weighted) gives HR {censoringOnly.Value:0.###} ({censoringOnly.Lower:0.###}–{censoringOnly.Upper:0.###})"));
        if (document.Estimates.CalibratedHazardRatio is not null)
        {
            notes = notes.Append("per-protocol: the negative controls are not IPCW-weighted, so the per-protocol estimate is not calibrated");
        }

        return document with
        {
            Curves = Curves,
            Estimates = document.Estimates with
            {
                HazardRatio = HazardRatio,
                CalibratedHazardRatio = null,
                Horizons = Horizons,
                EValue = eValue.Point,
                EValueLimit = eValue.Ci,
            },
            Diagnostics = document.Diagnostics with { Notes = [.. notes] },
        };
    }
}

/// <summary>
/// The per-protocol contrast as R TrialEmulation does it (docs/analyses.md, decisions 1090–1092): stabilised inverse
/// probability of censoring weights from <see cref="CensoringWeights"/> (numerator: arm and the logit of the baseline
/// propensity score; denominator: those and the time-varying covariates of the previous period; period + period²),
/// expanded into sequential trials (each period a member starts on strategy, weight W(period) / W(trial)), clipped at
/// their 1st and 99th percentiles and multiplied by the run's baseline PS weight; then the weighted pooled logistic
/// hazard model <c>outcome ~ arm + followup + followup² (+ trial + trial²)</c> with a sandwich variance clustered by
/// person; curves and risks predicted for the trial at time zero with bands from draws of the coefficients.
/// </summary>
public static class PerProtocolAnalysis
{
    /// <summary>Names of the baseline covariates of both censoring models.</summary>
    public static readonly IReadOnlyList<string> BaselineNames = ["arm", "logit PS"];

    /// <summary>Fitted probabilities of staying on strategy are taken as at least this when the weights are formed.</summary>
    public const double ProbabilityFloor = 1e-6;

    /// <param name="data">The person-periods (members indexed as the run's population).</param>
    /// <param name="psWeights">The run's baseline weights per member (PS weights, matching or strata weights).</param>
    /// <param name="ps">The propensity score per member.</param>
    /// <param name="horizonsDays">The protocol's horizons.</param>
    /// <param name="maxDays">The protocol's maximum follow-up.</param>
    /// <param name="threshold">The small-cell threshold: a curve ends before fewer persons of its arm are at risk.</param>
    /// <param name="seed">The run's seed (coefficient draws).</param>
    /// <param name="options">Sequential trials, truncation and draws; the defaults when null.</param>
    public static PerProtocolResult Run(
        PersonPeriodData data, IReadOnlyList<double> psWeights, IReadOnlyList<double> ps, IReadOnlyList<int> horizonsDays, int maxDays, int threshold, int seed,
        PerProtocolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(psWeights);
        ArgumentNullException.ThrowIfNull(ps);
        ArgumentNullException.ThrowIfNull(horizonsDays);
        options ??= new PerProtocolOptions();
        var rows = data.Rows;
        if (rows.Count == 0)
        {
            throw new ProtocolRunFailedException("Run.NoEstimate", "The per-protocol analysis has no person-periods.");
        }

        // Censoring models on the person-periods (cluster = person); a covariate without variation is left out.
        double Logit(double p)
        {
            var c = Math.Clamp(p, 1e-6, 1 - 1e-6);
            return Math.Log(c / (1 - c));
        }

        var baseline = rows.Select(r => new[] { r.Treated ? 1.0 : 0.0, Logit(ps[r.Member]) }).ToList();
        var keepBaseline = Varying(baseline, BaselineNames.Count);
        var keepVarying = Varying([.. rows.Select(r => r.TimeVarying)], data.TimeVaryingNames.Count);
        var periods = rows.Select((r, k) => new PersonPeriod(
            r.PersonId, r.Period, r.CensoredAtEnd, [.. keepBaseline.Select(j => baseline[k][j])], [.. keepVarying.Select(j => r.TimeVarying[j])])).ToList();
        var censoring = CensoringWeights.Fit(periods, [.. keepBaseline.Select(j => BaselineNames[j])], [.. keepVarying.Select(j => data.TimeVaryingNames[j])]);

        // W(period) / W(trial) as CensoringWeightsResult.TrialWeight, with fitted probabilities of staying on strategy
        // floored: a supply-based deviation rule can make them (almost) 0 in some periods (quasi-separation).
        var floored = 0;
        var logW = new Dictionary<(int Member, int Period), double>(rows.Count);
        foreach (var person in Enumerable.Range(0, rows.Count).GroupBy(k => rows[k].Member))
        {
            var sum = 0.0;
            foreach (var k in person.OrderBy(k => rows[k].Period))
            {
                double Floor(double p)
                {
                    if (double.IsFinite(p) && p >= ProbabilityFloor)
                    {
                        return p;
                    }

                    floored++;
                    return ProbabilityFloor;
                }

                sum += Math.Log(Floor(censoring.ProbabilityNumerator[k])) - Math.Log(Floor(censoring.ProbabilityDenominator[k]));
                logW[(rows[k].Member, rows[k].Period)] = sum;
            }
        }

        // Expansion into trials: a trial at every period a member starts on strategy (only time zero without sequential trials).
        var arm = new List<double>();
        var followup = new List<double>();
        var trial = new List<double>();
        var y = new List<int>();
        var ipcw = new List<double>();
        var baseWeight = new List<double>();
        var cluster = new List<long>();
        var trials = new HashSet<int>();
        foreach (var person in rows.GroupBy(r => r.Member))
        {
            var own = person.OrderBy(r => r.Period).ToList();
            foreach (var start in own)
            {
                if (start.Period > 0 && !options.SequentialTrials)
                {
                    break;
                }

                trials.Add(start.Period);
                foreach (var r in own.Where(r => r.Period >= start.Period))
                {
                    arm.Add(r.Treated ? 1 : 0);
                    followup.Add(r.Period - start.Period);
                    trial.Add(start.Period);
                    y.Add(r.Outcome ? 1 : 0);
                    ipcw.Add(Math.Exp(logW[(r.Member, r.Period)] - logW[(r.Member, start.Period)]));
                    baseWeight.Add(psWeights[r.Member]);
                    cluster.Add(r.PersonId);
                }
            }
        }

        var (clipped, below, above) = CensoringWeights.Truncate(ipcw.ToArray(), options.Truncation);
        var weights = clipped.Select((w, k) => w * baseWeight[k]).ToArray();
        List<double[]> columns = [arm.ToArray(), followup.ToArray(), [.. followup.Select(f => f * f)]];
        List<string> names = ["arm", "followup", "I(followup^2)"];
        if (options.SequentialTrials && trials.Count > 1)
        {
            columns.AddRange([trial.ToArray(), [.. trial.Select(v => v * v)]]);
            names.AddRange(["trial", "I(trial^2)"]);
        }

        if (!y.Where((v, k) => arm[k] == 1 && weights[k] > 0).Any(v => v == 1) || !y.Where((v, k) => arm[k] == 0 && weights[k] > 0).Any(v => v == 1))
        {
            throw new ProtocolRunFailedException("Run.NoEstimate", "The per-protocol analysis has no weighted outcome in an arm.");
        }

        // The full model first; when it gives no finite estimate (sparse events late in follow-up), fewer time terms.
        PooledLogisticFit? model = null;
        double b = double.NaN, se = double.NaN;
        var simplified = new List<string>();
        for (var terms = columns.Count; terms >= 1; terms--)
        {
            var fit = WeightedPooledLogistic.Fit(columns.Take(terms).ToList(), names.Take(terms).ToList(), [.. y], weights, [.. cluster]);
            b = fit.Coefficients[1];
            se = Math.Sqrt(fit.Covariance[1, 1]);
            if (fit.Converged && double.IsFinite(b) && double.IsFinite(se) && se > 0 && fit.Coefficients.All(double.IsFinite))
            {
                model = fit;
                break;
            }

            simplified.Add(names[terms - 1]);
        }

        if (model is null)
        {
            throw new ProtocolRunFailedException("Run.NoEstimate", "The weighted pooled logistic model gives no finite per-protocol estimate.");
        }

        names = [.. names.Take(model.Coefficients.Length - 1)];
        const double z = 1.959963984540054;

        var hr = new Estimate(Math.Exp(b), Math.Exp(b - (z * se)), Math.Exp(b + (z * se)), 2 * MathNet.Numerics.Distributions.Normal.CDF(0, 1, -Math.Abs(b / se)));

        // Curves and risks of the trial at time zero, predicted from the model; bands from draws of the coefficients.
        var periodsToMax = ((maxDays - 1) / data.PeriodDays) + 1;
        var draws = Draws(model, options.Draws, seed);
        double[] Incidence(IReadOnlyList<double> beta, int a)
        {
            var risk = new double[periodsToMax];
            var survival = 1.0;
            for (var j = 0; j < periodsToMax; j++)
            {
                var eta = beta[0] + (beta[1] * a) + (beta.Count > 2 ? beta[2] * j : 0) + (beta.Count > 3 ? beta[3] * j * j : 0);
                survival *= 1 - (1 / (1 + Math.Exp(-eta)));
                risk[j] = 1 - survival;
            }

            return risk;
        }

        var atRisk = new int[2, periodsToMax];
        foreach (var r in rows.Where(r => r.Period < periodsToMax))
        {
            atRisk[r.Treated ? 1 : 0, r.Period]++;
        }

        var point = new[] { Incidence(model.Coefficients, 0), Incidence(model.Coefficients, 1) };
        var drawn = new[] { draws.Select(d => Incidence(d, 0)).ToList(), draws.Select(d => Incidence(d, 1)).ToList() };
        var curves = new List<SurvivalCurve>();
        foreach (var (label, a) in new[] { ("treatment", 1), ("comparator", 0) })
        {
            List<double> time = [0], estimate = [0], lower = [0], upper = [0];
            for (var j = 0; j < periodsToMax && atRisk[a, j] >= threshold; j++)
            {
                time.Add(Math.Min((j + 1) * data.PeriodDays, maxDays));
                estimate.Add(point[a][j]);
                lower.Add(Percentile([.. drawn[a].Select(d => d[j])], 0.025));
                upper.Add(Percentile([.. drawn[a].Select(d => d[j])], 0.975));
            }

            curves.Add(new SurvivalCurve(label, "survival", time, [.. estimate.Select(v => 1 - v)], [.. upper.Select(v => 1 - v)], [.. lower.Select(v => 1 - v)]));
            curves.Add(new SurvivalCurve(label, "cumulativeIncidence", time, estimate, lower, upper));
        }

        var horizons = new List<HorizonEffect>();
        foreach (var h in horizonsDays.Where(h => h > 0 && h <= maxDays))
        {
            var j = ((h - 1) / data.PeriodDays);
            if (atRisk[1, j] < threshold || atRisk[0, j] < threshold)
            {
                continue;
            }

            var r1 = point[1][j];
            var r0 = point[0][j];
            var rd = drawn[1].Select((d, k) => d[j] - drawn[0][k][j]).ToArray();
            var rr = drawn[1].Select((d, k) => d[j] / drawn[0][k][j]).ToArray();
            horizons.Add(new HorizonEffect(h, r1, r0,
                new Estimate(r1 - r0, Percentile(rd, 0.025), Percentile(rd, 0.975), null),
                new Estimate(r0 > 0 ? r1 / r0 : 0, Percentile(rr, 0.025), Percentile(rr, 0.975), null)));
        }

        var ipcwSummary = new WeightSummary(clipped.Average(), clipped.Max(), below, above);
        var combined = new WeightSummary(weights.Average(), weights.Max(), below, above);
        var dropped = BaselineNames.Where((_, j) => !keepBaseline.Contains(j)).Concat(data.TimeVaryingNames.Where((_, j) => !keepVarying.Contains(j))).ToList();
        var notes = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"per-protocol: IPCW for deviation (switch, discontinuation) from pooled logistic models on {rows.Count:N0} person-periods of {data.PeriodDays} days, {data.Deviations:N0} deviations; numerator: {string.Join(", ", BaselineNames)}, period, period²; denominator: also {string.Join(", ", data.TimeVaryingNames)}"),
            string.Create(CultureInfo.InvariantCulture,
                $"per-protocol: {(options.SequentialTrials ? $"{trials.Count} sequential emulated trials (each keeps the member's baseline weight from time zero)" : "one trial at time zero")}, {y.Count:N0} expanded rows; censoring weights mean {ipcwSummary.Mean:0.###}, max {ipcwSummary.Max:0.###}, truncated to [{below:0.###}, {above:0.###}] (quantiles {options.Truncation.Low} and {options.Truncation.High}); weights with the PS weight mean {combined.Mean:0.###}, max {combined.Max:0.###}"),
            "per-protocol: HR = odds ratio of the weighted pooled logistic hazard model (" + string.Join(", ", names) + "), robust variance clustered by person; curves and risks at the horizons predicted for the trial at time zero, 95% bands from " + options.Draws.ToString(CultureInfo.InvariantCulture) + " draws of the coefficients; risks at the end of the period that holds the horizon",
        };
        if (simplified.Count > 0)
        {
            notes.Add($"per-protocol: the full outcome model gave no finite estimate; left out: {string.Join(", ", simplified)}");
        }

        if (floored > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"per-protocol: {floored:N0} fitted probabilities of staying on strategy below {ProbabilityFloor} were raised to it (deviation is near-deterministic in some periods)"));
        }

        if (dropped.Count > 0)
        {
            notes.Add($"per-protocol: without variation, left out of the censoring models: {string.Join(", ", dropped)}");
        }

        if (!model.Converged || censoring.Denominator is { Converged: false } || censoring.Numerator is { Converged: false })
        {
            notes.Add("per-protocol: a model did not converge");
        }

        return new PerProtocolResult(hr, model, censoring, curves, horizons, ipcwSummary, combined, trials.Count, y.Count, notes);
    }

    private static List<int> Varying(List<double[]> rows, int count) =>
        [.. Enumerable.Range(0, count).Where(j => rows.Any(r => r[j] != rows[0][j]))];

    private static List<double[]> Draws(PooledLogisticFit model, int count, int seed)
    {
        var p = model.Coefficients.Length;
        var covariance = Matrix<double>.Build.DenseOfArray(model.Covariance);
        Matrix<double> factor;
        try
        {
            factor = covariance.Cholesky().Factor;
        }
        catch (ArgumentException)
        {
            // Not positive definite to rounding: the draws use each coefficient's own variance.
            factor = Matrix<double>.Build.DenseOfDiagonalArray([.. Enumerable.Range(0, p).Select(j => Math.Sqrt(Math.Max(0, covariance[j, j])))]);
        }
        var random = new Random(seed);
        var draws = new List<double[]>(count);
        for (var d = 0; d < count; d++)
        {
            var e = Vector<double>.Build.Dense(p, _ =>
            {
                // Box–Muller: one standard normal per coefficient.
                var u1 = 1.0 - random.NextDouble();
                var u2 = random.NextDouble();
                return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            });
            var shift = factor * e;
            draws.Add([.. model.Coefficients.Select((c, j) => c + shift[j])]);
        }

        return draws;
    }

    /// <summary>R's default quantile (type 7).</summary>
    internal static double Percentile(double[] values, double q)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var h = (sorted.Length - 1) * q;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((h - lo) * (sorted[hi] - sorted[lo]));
    }
}

/// <summary>A weighted logistic model: coefficients (intercept first) and their sandwich covariance clustered as given.</summary>
public sealed record PooledLogisticFit(IReadOnlyList<string> Names, double[] Coefficients, double[,] Covariance, int Clusters, int Iterations, bool Converged);

/// <summary>
/// Weighted logistic regression by IRLS (R's <c>glm(family = quasibinomial, weights = w)</c> coefficients) with the
/// cluster-robust sandwich variance of <c>sandwich::vcovCL(fit, cluster = id, type = "HC0")</c> (with its G / (G − 1)
/// adjustment): bread (X'WX)⁻¹ with W = w p (1 − p), meat the sum over clusters of the outer products of the summed
/// score contributions w (y − p) x.
/// </summary>
public static class WeightedPooledLogistic
{
    public static PooledLogisticFit Fit(IReadOnlyList<double[]> columns, IReadOnlyList<string> names, int[] y, double[] weights, long[] cluster, int maxIterations = 50)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(cluster);
        var n = y.Length;
        var p = columns.Count + 1;
        if (weights.Length != n || cluster.Length != n || columns.Any(c => c.Length != n))
        {
            throw new ArgumentException("The columns, outcomes, weights and clusters differ in length.", nameof(columns));
        }

        double X(int i, int j) => j == 0 ? 1 : columns[j - 1][i];
        var beta = new double[p];
        var converged = false;
        var iterations = 0;
        var deviance = double.PositiveInfinity;
        Matrix<double> information = Matrix<double>.Build.Dense(p, p);
        while (iterations < maxIterations)
        {
            iterations++;
            information = Matrix<double>.Build.Dense(p, p);
            var score = Vector<double>.Build.Dense(p);
            for (var i = 0; i < n; i++)
            {
                if (weights[i] == 0)
                {
                    continue;
                }

                var eta = 0.0;
                for (var j = 0; j < p; j++)
                {
                    eta += beta[j] * X(i, j);
                }

                var mu = 1 / (1 + Math.Exp(-eta));
                var v = weights[i] * mu * (1 - mu);
                var r = weights[i] * (y[i] - mu);
                for (var j = 0; j < p; j++)
                {
                    var xj = X(i, j);
                    score[j] += r * xj;
                    for (var k = 0; k <= j; k++)
                    {
                        information[j, k] += v * xj * X(i, k);
                    }
                }
            }

            for (var j = 0; j < p; j++)
            {
                for (var k = j + 1; k < p; k++)
                {
                    information[j, k] = information[k, j];
                }
            }

            var step = information.Solve(score);
            var start = (double[])beta.Clone();
            var next = double.NaN;
            for (var (half, factor) = (0, 1.0); half < 30; half++, factor /= 2)
            {
                // Step halving as glm.fit: a step that does not lower the deviance (or leaves it non-finite) is halved.
                for (var j = 0; j < p; j++)
                {
                    beta[j] = start[j] + (factor * step[j]);
                }

                next = Deviance(beta, X, y, weights, p);
                if (double.IsFinite(next) && (!double.IsFinite(deviance) || next <= deviance + (1e-12 * Math.Abs(deviance))))
                {
                    break;
                }
            }

            if (!double.IsFinite(next) || step.Any(v => !double.IsFinite(v)))
            {
                break;
            }
            if (Math.Abs(next - deviance) / (Math.Abs(next) + 0.1) < 1e-10)
            {
                converged = true;
                deviance = next;
                break;
            }

            deviance = next;
        }

        // Sandwich at the final coefficients.
        var bread = Matrix<double>.Build.Dense(p, p);
        var perCluster = new Dictionary<long, double[]>();
        for (var i = 0; i < n; i++)
        {
            if (weights[i] == 0)
            {
                continue;
            }

            var eta = 0.0;
            for (var j = 0; j < p; j++)
            {
                eta += beta[j] * X(i, j);
            }

            var mu = 1 / (1 + Math.Exp(-eta));
            var v = weights[i] * mu * (1 - mu);
            if (!perCluster.TryGetValue(cluster[i], out var u))
            {
                u = new double[p];
                perCluster[cluster[i]] = u;
            }

            for (var j = 0; j < p; j++)
            {
                u[j] += weights[i] * (y[i] - mu) * X(i, j);
                for (var k = 0; k < p; k++)
                {
                    bread[j, k] += v * X(i, j) * X(i, k);
                }
            }
        }

        var meat = Matrix<double>.Build.Dense(p, p);
        foreach (var u in perCluster.Values)
        {
            for (var j = 0; j < p; j++)
            {
                for (var k = 0; k < p; k++)
                {
                    meat[j, k] += u[j] * u[k];
                }
            }
        }

        var g = perCluster.Count;
        var inverse = bread.Inverse();
        var covariance = inverse * meat * inverse * (g > 1 ? g / (g - 1.0) : 1.0);
        return new PooledLogisticFit([.. names.Prepend("(Intercept)")], beta, covariance.ToArray(), g, iterations, converged);
    }

    private static double Deviance(double[] beta, Func<int, int, double> x, int[] y, double[] weights, int p)
    {
        var deviance = 0.0;
        for (var i = 0; i < y.Length; i++)
        {
            if (weights[i] == 0)
            {
                continue;
            }

            var eta = 0.0;
            for (var j = 0; j < p; j++)
            {
                eta += beta[j] * x(i, j);
            }

            var mu = Math.Clamp(1 / (1 + Math.Exp(-eta)), 1e-300, 1 - 1e-16);
            deviance -= 2 * weights[i] * (y[i] == 1 ? Math.Log(mu) : Math.Log(1 - mu));
        }

        return deviance;
    }
}
