using RwePortal.Analytics.Numerics;
using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Propensity;

namespace RwePortal.Analytics.Weighting;

/// <summary>
/// One person-period of a per-protocol or sequential-trial analysis: the cluster (person, or person × trial), the
/// period number, whether the person was censored (deviated from the strategy) at the end of this period, and the
/// covariates the censoring models use.
/// </summary>
public sealed record PersonPeriod(long Cluster, int Period, bool CensoredAtEnd, double[] Baseline, double[] TimeVarying);

/// <summary>Which functions of the period enter both censoring models.</summary>
public enum PeriodTerms
{
    None,
    Linear,

    /// <summary>period + period² (the shape TrialEmulation gives follow-up time).</summary>
    Quadratic,
}

/// <summary>Options of the censoring weights.</summary>
public sealed record CensoringWeightOptions
{
    public PeriodTerms PeriodTerms { get; init; } = PeriodTerms.Quadratic;

    /// <summary>Quantiles (R type 1, as TrialEmulation's p99_weight) at which the cumulative weights are clipped; none by default.</summary>
    public Truncation? Truncation { get; init; }
}

/// <summary>A fitted pooled logistic model of remaining uncensored (coefficients named as R's glm names them).</summary>
public sealed record CensoringModel(IReadOnlyList<string> Names, IReadOnlyList<double> Coefficients, int Iterations, bool Converged);

/// <summary>
/// Per input row (in input order): the predicted probabilities of remaining uncensored under the numerator and
/// denominator models, their ratio, the stabilised weight (cumulative product of the ratios over the cluster's
/// periods up to and including this one) and the weight after truncation. The models are null when nobody is censored
/// (every weight is then 1).
/// </summary>
public sealed record CensoringWeightsResult(
    CensoringModel? Numerator,
    CensoringModel? Denominator,
    double[] ProbabilityNumerator,
    double[] ProbabilityDenominator,
    double[] Ratio,
    double[] UntruncatedWeights,
    double[] Weights,
    double TruncatedBelow,
    double TruncatedAbove)
{
    internal IReadOnlyDictionary<(long Cluster, int Period), int> RowOf { get; init; } = new Dictionary<(long, int), int>();

    /// <summary>
    /// The weight of follow-up <paramref name="period"/> in the emulated trial that <paramref name="cluster"/> entered
    /// at <paramref name="trialPeriod"/>: <c>W(period) / W(trialPeriod)</c> of the untruncated cumulative weights, 1 at
    /// the trial's start, as TrialEmulation's expansion computes it (<c>weight0 / wtprod</c>). Truncate the expanded
    /// weights with <see cref="CensoringWeights.Truncate"/>.
    /// </summary>
    public double TrialWeight(long cluster, int trialPeriod, int period)
    {
        if (period < trialPeriod)
        {
            throw new ArgumentOutOfRangeException(nameof(period), "A trial's follow-up starts at its own period.");
        }

        if (!RowOf.TryGetValue((cluster, trialPeriod), out var start) || !RowOf.TryGetValue((cluster, period), out var at))
        {
            throw new ArgumentException($"Cluster {cluster} has no row for period {trialPeriod} or {period}.", nameof(cluster));
        }

        return UntruncatedWeights[at] / UntruncatedWeights[start];
    }
}

/// <summary>
/// Stabilised inverse-probability-of-censoring weights for deviation from a strategy, as R TrialEmulation computes
/// them: pooled logistic models of <c>1 − censored</c> over all person-periods, the numerator on baseline covariates
/// and period terms, the denominator on baseline, time-varying covariates and period terms;
/// <c>wtC = p_num / p_den</c> per period and the weight is the cumulative product of wtC within the cluster in
/// period order. See docs/decisions/1023-censoring-weights.md.
/// </summary>
public static class CensoringWeights
{
    public static CensoringWeightsResult Fit(
        IReadOnlyList<PersonPeriod> rows,
        IReadOnlyList<string> baselineNames,
        IReadOnlyList<string> timeVaryingNames,
        CensoringWeightOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(baselineNames);
        ArgumentNullException.ThrowIfNull(timeVaryingNames);
        options ??= new CensoringWeightOptions();
        var n = rows.Count;
        if (n == 0)
        {
            throw new ArgumentException("No person-periods.", nameof(rows));
        }

        var seen = new HashSet<(long, int)>();
        foreach (var r in rows)
        {
            if (r.Baseline.Length != baselineNames.Count || r.TimeVarying.Length != timeVaryingNames.Count)
            {
                throw new ArgumentException($"Cluster {r.Cluster}, period {r.Period}: the covariates do not match their names.", nameof(rows));
            }

            if (r.Period < 0 || !seen.Add((r.Cluster, r.Period)))
            {
                throw new ArgumentException($"Cluster {r.Cluster}, period {r.Period}: periods must be non-negative and appear once per cluster.", nameof(rows));
            }

            if (r.Baseline.Concat(r.TimeVarying).Any(v => !double.IsFinite(v)))
            {
                throw new ArgumentException($"Cluster {r.Cluster}, period {r.Period}: a covariate is missing or not finite.", nameof(rows));
            }
        }

        var uncensored = rows.Select(r => r.CensoredAtEnd ? 0 : 1).ToArray();
        double[] pNum, pDen;
        CensoringModel? numerator = null, denominator = null;
        if (uncensored.All(u => u == 1))
        {
            pNum = Enumerable.Repeat(1.0, n).ToArray();
            pDen = Enumerable.Repeat(1.0, n).ToArray();
        }
        else
        {
            var periodColumns = new List<double[]>();
            var periodNames = new List<string>();
            if (options.PeriodTerms is PeriodTerms.Linear or PeriodTerms.Quadratic)
            {
                periodColumns.Add([.. rows.Select(r => (double)r.Period)]);
                periodNames.Add("period");
            }

            if (options.PeriodTerms == PeriodTerms.Quadratic)
            {
                periodColumns.Add([.. rows.Select(r => (double)r.Period * r.Period)]);
                periodNames.Add("I(period^2)");
            }

            var baseline = Enumerable.Range(0, baselineNames.Count).Select(j => rows.Select(r => r.Baseline[j]).ToArray()).ToList();
            var varying = Enumerable.Range(0, timeVaryingNames.Count).Select(j => rows.Select(r => r.TimeVarying[j]).ToArray()).ToList();
            var numFit = LogisticRegression.Fit([.. baseline, .. periodColumns], [.. baselineNames, .. periodNames], uncensored);
            var denFit = LogisticRegression.Fit([.. baseline, .. varying, .. periodColumns], [.. baselineNames, .. timeVaryingNames, .. periodNames], uncensored);
            numerator = new CensoringModel(numFit.Names, numFit.Coefficients, numFit.Iterations, numFit.Converged);
            denominator = new CensoringModel(denFit.Names, denFit.Coefficients, denFit.Iterations, denFit.Converged);
            pNum = numFit.Fitted;
            pDen = denFit.Fitted;
        }

        var ratio = new double[n];
        for (var i = 0; i < n; i++)
        {
            ratio[i] = pNum[i] / pDen[i];
        }

        var order = Enumerable.Range(0, n)
            .OrderBy(i => rows[i].Cluster)
            .ThenBy(i => rows[i].Period)
            .ToArray();
        var weights = new double[n];
        var product = 1.0;
        for (var k = 0; k < n; k++)
        {
            var i = order[k];
            if (k == 0 || rows[i].Cluster != rows[order[k - 1]].Cluster)
            {
                product = 1.0;
            }

            product *= ratio[i];
            weights[i] = product;
        }

        var (truncated, below, above) = options.Truncation is { } t
            ? Truncate(weights, t)
            : (weights, double.NegativeInfinity, double.PositiveInfinity);
        var rowOf = new Dictionary<(long, int), int>(n);
        for (var i = 0; i < n; i++)
        {
            rowOf[(rows[i].Cluster, rows[i].Period)] = i;
        }

        return new CensoringWeightsResult(numerator, denominator, pNum, pDen, ratio, weights, truncated, below, above) { RowOf = rowOf };
    }

    /// <summary>
    /// Clips weights to their <see cref="Truncation.Low"/> and <see cref="Truncation.High"/> quantiles of R type 1, as
    /// TrialEmulation's <c>p99_weight</c> does with (0.01, 0.99); returns the clipped weights and the two limits.
    /// </summary>
    public static (double[] Weights, double Below, double Above) Truncate(ReadOnlySpan<double> weights, Truncation truncation)
    {
        ArgumentNullException.ThrowIfNull(truncation);
        if (!(truncation.Low >= 0 && truncation.Low <= truncation.High && truncation.High <= 1))
        {
            throw new ArgumentException("Truncation quantiles must satisfy 0 ≤ low ≤ high ≤ 1.", nameof(truncation));
        }

        var sorted = weights.ToArray();
        Array.Sort(sorted);
        var below = Quantiles.Type1(sorted, truncation.Low);
        var above = Quantiles.Type1(sorted, truncation.High);
        var clipped = new double[weights.Length];
        for (var i = 0; i < weights.Length; i++)
        {
            clipped[i] = Math.Min(Math.Max(weights[i], below), above);
        }

        return (clipped, below, above);
    }
}
