using RwePortal.Analytics.Numerics;

namespace RwePortal.Analytics.Propensity;

/// <summary>The penalty of a penalised logistic regression.</summary>
public enum Penalty
{
    /// <summary>Lasso, <c>λ Σ|βⱼ|</c> (Cyclops' Laplace prior).</summary>
    L1,

    /// <summary>Ridge, <c>(λ/2) Σβⱼ²</c> (Cyclops' normal prior).</summary>
    L2,
}

/// <summary>A penalised fit at one λ.</summary>
public sealed record PenalizedFit(double Lambda, double Intercept, double[] Coefficients, double[] Fitted, int Sweeps)
{
    public int NonZero => Coefficients.Count(b => b != 0.0);
}

/// <summary>
/// Cross-validated choice of λ and the final fit (on all persons, or on the subsample of <see cref="FittedOn"/> persons
/// when <see cref="PenalizedOptions.MaxPersonsForFitting"/> applied; <see cref="PenalizedFit.Fitted"/> is for everyone).
/// </summary>
public sealed record CrossValidatedFit(
    PenalizedFit Fit,
    IReadOnlyList<double> Lambdas,
    IReadOnlyList<double> MeanDeviance,
    int Folds)
{
    /// <summary>Persons the cross-validation and the fit used.</summary>
    public int FittedOn { get; init; }
}

/// <summary>Settings of the penalised fit and its cross-validation.</summary>
public sealed record PenalizedOptions
{
    public Penalty Penalty { get; init; } = Penalty.L1;

    public int Folds { get; init; } = 10;

    /// <summary>Number of λ values, log-spaced from λ_max down to <see cref="LambdaMinRatio"/>·λ_max.</summary>
    public int PathLength { get; init; } = 30;

    public double LambdaMinRatio { get; init; } = 1e-3;

    /// <summary>Stop the path once the mean held-out deviance has risen this many λ values in a row.</summary>
    public int StopAfterWorse { get; init; } = 2;

    /// <summary>Convergence: max over coordinates of <c>hⱼ·Δβⱼ² / n</c> (glmnet's criterion).</summary>
    public double Tolerance { get; init; } = 1e-8;

    public int MaxSweeps { get; init; } = 1000;

    /// <summary>
    /// Convergence of the cross-validation folds' fits when it differs from <see cref="Tolerance"/> (which the final fit
    /// keeps): the held-out deviances that choose λ need less precision than the coefficients of the model.
    /// </summary>
    public double? CrossValidationTolerance { get; init; }

    public int Seed { get; init; } = 20261124;

    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// When set and exceeded, λ is chosen and the model fitted on a random subsample of this many persons, drawn per
    /// arm in proportion (seeded by <see cref="Seed"/>), and applied to everyone, as CohortMethod's
    /// <c>maxCohortSizeForFitting</c> does; the λ the sample's cross-validation chooses is scaled by √(sample / n)
    /// (λ ∝ 1/√n) for the final fit (decision 1100).
    /// </summary>
    public int? MaxPersonsForFitting { get; init; }

    /// <summary>Called after each λ of the cross-validation path (for progress output).</summary>
    public Action<CrossValidationStep>? OnStep { get; init; }
}

/// <summary>One λ of the cross-validation path: mean held-out deviance and mean number of non-zero coefficients.</summary>
public sealed record CrossValidationStep(int Index, double Lambda, double MeanDeviance, double MeanNonZero, TimeSpan Elapsed);

/// <summary>
/// Penalised logistic regression on sparse 0/1 covariates by cyclic coordinate descent, as OHDSI Cyclops and
/// glmnet do: outer Newton (IRLS) steps, each solved by coordinate-wise soft-thresholded updates of the
/// quadratic approximation, the working residual updated in place over the column's non-zeros; the intercept
/// is unpenalised.
/// Objective: <c>−loglik/n + λ·Σ|βⱼ|</c> (L1) or <c>−loglik/n + (λ/2)·Σβⱼ²</c> (L2). For L1 only an active set
/// is swept (non-zeros plus the strong-rule candidates), checked against the KKT conditions over all columns
/// before a λ counts as solved. λ is chosen by stratified k-fold cross-validation on held-out deviance along a
/// warm-started path (docs/decisions/0101-penalised-ps-cross-validation.md).
/// </summary>
public static class PenalizedLogisticRegression
{
    /// <summary>Smallest λ at which every coefficient is zero (L1): <c>max_j |Σᵢ xᵢⱼ(yᵢ − ȳ)| / n</c>.</summary>
    public static double LambdaMax(SparseBinaryMatrix x, ReadOnlySpan<int> y)
    {
        var n = y.Length;
        double ybar = 0;
        foreach (var v in y)
        {
            ybar += v;
        }

        ybar /= n;
        var max = 0.0;
        for (var j = 0; j < x.Columns; j++)
        {
            double g = 0;
            foreach (var i in x.Column(j))
            {
                g += y[i] - ybar;
            }

            max = Math.Max(max, Math.Abs(g));
        }

        return max / n;
    }

    /// <summary>Fits at one λ from scratch.</summary>
    public static PenalizedFit Fit(SparseBinaryMatrix x, int[] y, double lambda, PenalizedOptions options)
    {
        var state = new State(x, y, null, options);
        state.Solve(lambda, double.NaN);
        return state.Snapshot(lambda);
    }

    /// <summary>
    /// Chooses λ by k-fold cross-validation and refits on everyone at the chosen λ. With the L1 penalty a column
    /// identical to an earlier one is left out and gets coefficient 0: coordinate descent never moves it from 0 (the
    /// earlier copy, updated first in each sweep, leaves its gradient inside ±λ), so the fit is the same without the
    /// passes over it.
    /// </summary>
    public static CrossValidatedFit FitCrossValidated(SparseBinaryMatrix x, int[] y, PenalizedOptions options)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Penalty == Penalty.L1 && DistinctColumns(x) is var distinct && distinct.Length < x.Columns)
        {
            var reduced = SparseBinaryMatrix.FromColumns(x.Rows, [.. distinct.Select(j => x.Column(j).ToArray())], [.. distinct.Select(j => x.Names[j])]);
            var fit = FitCrossValidatedDistinct(reduced, y, options);
            var coefficients = new double[x.Columns];
            for (var k = 0; k < distinct.Length; k++)
            {
                coefficients[distinct[k]] = fit.Fit.Coefficients[k];
            }

            return fit with { Fit = fit.Fit with { Coefficients = coefficients } };
        }

        return FitCrossValidatedDistinct(x, y, options);
    }

    /// <summary>The columns that are not a copy of an earlier column (the same rows), ascending.</summary>
    internal static int[] DistinctColumns(SparseBinaryMatrix x)
    {
        var first = new Dictionary<int, List<int>>();
        var kept = new List<int>(x.Columns);
        for (var j = 0; j < x.Columns; j++)
        {
            var column = x.Column(j);
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(column));
            var key = hash.ToHashCode();
            if (!first.TryGetValue(key, out var candidates))
            {
                first[key] = candidates = [];
            }

            var copy = false;
            foreach (var other in candidates)
            {
                if (x.Column(other).SequenceEqual(column))
                {
                    copy = true;
                    break;
                }
            }

            if (!copy)
            {
                candidates.Add(j);
                kept.Add(j);
            }
        }

        return [.. kept];
    }

    private static CrossValidatedFit FitCrossValidatedDistinct(SparseBinaryMatrix x, int[] y, PenalizedOptions options)
    {
        if (options.MaxPersonsForFitting is { } most && y.Length > most)
        {
            var chosen = Subsample(y, most, options.Seed);
            var (subX, subY) = Restrict(x, y, chosen);
            // λ ∝ 1/√n: the λ chosen on the sample is carried to the whole cohort's size before the sample's final fit.
            var sub = FitCrossValidatedAll(subX, subY, options with { MaxPersonsForFitting = null }, Math.Sqrt((double)subY.Length / y.Length));
            var fitted = new double[y.Length];
            var eta = new double[y.Length];
            Array.Fill(eta, sub.Fit.Intercept);
            for (var j = 0; j < x.Columns; j++)
            {
                var b = sub.Fit.Coefficients[j];
                if (b != 0)
                {
                    foreach (var i in x.Column(j))
                    {
                        eta[i] += b;
                    }
                }
            }

            for (var i = 0; i < y.Length; i++)
            {
                fitted[i] = Logistic.Inverse(eta[i]);
            }

            return sub with { Fit = sub.Fit with { Fitted = fitted }, FittedOn = subY.Length };
        }

        return FitCrossValidatedAll(x, y, options) with { FittedOn = y.Length };
    }

    /// <summary>
    /// <paramref name="size"/> persons drawn without replacement, each arm in proportion to its share (at least one of
    /// each arm), ascending; the same seed gives the same persons.
    /// </summary>
    internal static int[] Subsample(int[] y, int size, int seed)
    {
        var random = new Random(seed);
        var treated = 0;
        foreach (var v in y)
        {
            treated += v;
        }

        var takeTreated = (int)Math.Clamp(Math.Round((double)size * treated / y.Length), 1, Math.Max(1, treated));
        var chosen = new List<int>(size);
        foreach (var (arm, take) in new[] { (1, takeTreated), (0, size - takeTreated) })
        {
            var members = Enumerable.Range(0, y.Length).Where(i => y[i] == arm).ToArray();
            random.Shuffle(members);
            chosen.AddRange(members.Take(Math.Min(take, members.Length)));
        }

        chosen.Sort();
        return [.. chosen];
    }

    /// <summary>The rows <paramref name="rows"/> (ascending) of the matrix and the outcome.</summary>
    private static (SparseBinaryMatrix X, int[] Y) Restrict(SparseBinaryMatrix x, int[] y, int[] rows)
    {
        var map = new int[y.Length];
        Array.Fill(map, -1);
        for (var k = 0; k < rows.Length; k++)
        {
            map[rows[k]] = k;
        }

        var columns = new int[x.Columns][];
        for (var j = 0; j < x.Columns; j++)
        {
            var kept = new List<int>();
            foreach (var i in x.Column(j))
            {
                if (map[i] >= 0)
                {
                    kept.Add(map[i]);
                }
            }

            columns[j] = [.. kept];
        }

        return (SparseBinaryMatrix.FromColumns(rows.Length, columns, x.Names), [.. rows.Select(i => y[i])]);
    }

    private static CrossValidatedFit FitCrossValidatedAll(SparseBinaryMatrix x, int[] y, PenalizedOptions options, double finalScale = 1.0)
    {
        var lambdaMax = LambdaMax(x, y);
        if (options.Penalty == Penalty.L2)
        {
            // Ridge never zeroes a coefficient; start the path where the penalty dominates the curvature (h ≤ 1/4).
            lambdaMax = Math.Max(lambdaMax * 4.0, 1e-6);
        }

        var lambdas = new double[options.PathLength];
        for (var k = 0; k < lambdas.Length; k++)
        {
            lambdas[k] = lambdaMax * Math.Pow(options.LambdaMinRatio, (double)k / (lambdas.Length - 1));
        }

        var fold = AssignFolds(y, options.Folds, options.Seed);
        var states = new State[options.Folds];
        Parallel.For(0, options.Folds, new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism }, f =>
        {
            var train = new bool[y.Length];
            for (var i = 0; i < y.Length; i++)
            {
                train[i] = fold[i] != f;
            }

            states[f] = new State(x, y, train, options with { MaxDegreeOfParallelism = 1, Tolerance = options.CrossValidationTolerance ?? options.Tolerance });
        });

        var meanDeviance = new List<double>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var best = 0;
        var worse = 0;
        for (var k = 0; k < lambdas.Length; k++)
        {
            var previous = k == 0 ? double.NaN : lambdas[k - 1];
            var deviance = new double[options.Folds];
            var lambda = lambdas[k];
            Parallel.For(0, options.Folds, new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism }, f =>
            {
                states[f].Solve(lambda, previous);
                deviance[f] = states[f].HeldOutDeviance();
            });

            meanDeviance.Add(deviance.Average());
            options.OnStep?.Invoke(new CrossValidationStep(k, lambda, meanDeviance[k], states.Average(s => s.NonZero), clock.Elapsed));
            if (meanDeviance[k] < meanDeviance[best])
            {
                best = k;
                worse = 0;
            }
            else if (k > 0 && meanDeviance[k] > meanDeviance[k - 1])
            {
                worse++;
                if (worse >= options.StopAfterWorse)
                {
                    break;
                }
            }
        }

        // Refit on everyone along the path down to the chosen λ (warm starts keep the active set small).
        var full = new State(x, y, null, options);
        for (var k = 0; k <= best; k++)
        {
            full.Solve(lambdas[k], k == 0 ? double.NaN : lambdas[k - 1]);
        }

        var chosen = lambdas[best];
        if (finalScale < 1.0)
        {
            // Down from the chosen λ to λ·scale in a few warm-started steps.
            const int steps = 5;
            var previous = chosen;
            for (var k = 1; k <= steps; k++)
            {
                var next = chosen * Math.Pow(finalScale, (double)k / steps);
                full.Solve(next, previous);
                previous = next;
            }

            chosen = previous;
        }

        return new CrossValidatedFit(full.Snapshot(chosen), lambdas[..meanDeviance.Count], meanDeviance, options.Folds);
    }

    /// <summary>Stratified random folds: treated and untreated persons are dealt to folds separately.</summary>
    private static int[] AssignFolds(int[] y, int folds, int seed)
    {
        var random = new Random(seed);
        var fold = new int[y.Length];
        foreach (var arm in new[] { 0, 1 })
        {
            var members = Enumerable.Range(0, y.Length).Where(i => y[i] == arm).ToArray();
            random.Shuffle(members);
            for (var k = 0; k < members.Length; k++)
            {
                fold[members[k]] = k % folds;
            }
        }

        return fold;
    }

    /// <summary>Coefficients, linear predictor and fitted values of one fit (one CV fold or the full data).</summary>
    private sealed class State
    {
        private readonly SparseBinaryMatrix _x;
        private readonly int[] _y;
        private readonly bool[]? _train;
        private readonly PenalizedOptions _options;
        private readonly double[] _beta;
        private readonly double[] _eta;
        private readonly double[] _weight;
        private readonly double[] _residual;
        private readonly bool[] _active;
        private readonly double[] _gradient;
        private readonly int _nTrain;
        private readonly double[] _curvature;
        private readonly int[] _curvatureStamp;
        private int _refreshes;
        private double _intercept;

        // The intercept's updates since the last refresh, not yet added to η nor taken from the residuals (the true
        // residual is rᵢ − wᵢ·offset), so that an intercept update costs O(1) instead of two passes over every row.
        private double _offset;
        private double _residualSum;
        private double _weightSum;
        private bool _gradientCurrent;
        private int _sweeps;

        public State(SparseBinaryMatrix x, int[] y, bool[]? train, PenalizedOptions options)
        {
            _x = x;
            _y = y;
            _train = train;
            _options = options;
            _beta = new double[x.Columns];
            _eta = new double[y.Length];
            _weight = new double[y.Length];
            _residual = new double[y.Length];
            _active = new bool[x.Columns];
            _gradient = new double[x.Columns];
            _curvature = new double[x.Columns];
            _curvatureStamp = new int[x.Columns];
            double treated = 0;
            for (var i = 0; i < y.Length; i++)
            {
                if (IsTrain(i))
                {
                    _nTrain++;
                    treated += y[i];
                }
            }

            var p = treated / _nTrain;
            _intercept = Math.Log(p / (1 - p));
            Array.Fill(_eta, _intercept);
            Refresh();
        }

        private bool IsTrain(int i) => _train is null || _train[i];

        public int NonZero => _beta.Count(b => b != 0);

        /// <summary>Solves at <paramref name="lambda"/>, warm-started from the current coefficients.</summary>
        public void Solve(double lambda, double previousLambda)
        {
            var threshold = lambda * _nTrain;
            if (_options.Penalty == Penalty.L2)
            {
                Array.Fill(_active, true);
                Newton(lambda);
                return;
            }

            // Strong rule (Tibshirani et al. 2012): start from the non-zeros and the columns likely to enter.
            ComputeGradient();
            var strong = double.IsNaN(previousLambda) ? threshold : ((2 * lambda) - previousLambda) * _nTrain;
            for (var j = 0; j < _beta.Length; j++)
            {
                _active[j] = _beta[j] != 0 || Math.Abs(_gradient[j]) > strong;
            }

            for (var round = 0; round < 100; round++)
            {
                Newton(lambda);
                ComputeGradient();
                var added = 0;
                for (var j = 0; j < _beta.Length; j++)
                {
                    if (!_active[j] && Math.Abs(_gradient[j]) > threshold)
                    {
                        _active[j] = true;
                        added++;
                    }
                }

                if (added == 0)
                {
                    return;
                }
            }
        }

        /// <summary>
        /// Outer Newton (IRLS) iterations; each minimises the penalised quadratic approximation by coordinate
        /// descent over the active set, updating the working residual in place (no exponentials in the inner loop).
        /// </summary>
        private void Newton(double lambda)
        {
            var penalty = lambda * _nTrain;
            var l1 = _options.Penalty == Penalty.L1;
            for (var outer = 0; outer < 100; outer++)
            {
                var outerChange = 0.0;
                for (var sweep = 0; sweep < _options.MaxSweeps; sweep++)
                {
                    _sweeps++;
                    var maxChange = UpdateIntercept();
                    for (var j = 0; j < _beta.Length; j++)
                    {
                        if (!_active[j])
                        {
                            continue;
                        }

                        var col = _x.Column(j);
                        double g = 0, h;
                        if (_curvatureStamp[j] == _refreshes)
                        {
                            // The weights change only at a refresh: the column's curvature is the one summed in its first sweep.
                            h = _curvature[j];
                            foreach (var i in col)
                            {
                                g += _residual[i];
                            }
                        }
                        else
                        {
                            h = 0;
                            foreach (var i in col)
                            {
                                g += _residual[i];
                                h += _weight[i];
                            }

                            _curvature[j] = h;
                            _curvatureStamp[j] = _refreshes;
                        }

                        g -= _offset * h;

                        if (h <= 0)
                        {
                            continue;
                        }

                        // g is Σ x(y − μ̃) under the quadratic model: the negative gradient.
                        var b = _beta[j];
                        var z = (h * b) + g;
                        var target = l1
                            ? (Math.Abs(z) <= penalty ? 0.0 : (z - (Math.Sign(z) * penalty)) / h)
                            : z / (h + penalty);
                        var delta = target - b;
                        if (delta == 0)
                        {
                            continue;
                        }

                        _beta[j] = target;
                        foreach (var i in col)
                        {
                            _eta[i] += delta;
                            _residual[i] -= _weight[i] * delta;
                        }

                        _residualSum -= h * delta;
                        maxChange = Math.Max(maxChange, h * delta * delta / _nTrain);
                    }

                    outerChange = Math.Max(outerChange, maxChange);
                    if (maxChange < _options.Tolerance)
                    {
                        break;
                    }
                }

                Refresh();
                if (outerChange < _options.Tolerance)
                {
                    return;
                }
            }
        }

        private double UpdateIntercept()
        {
            var h = _weightSum;
            var delta = (_residualSum - (_offset * h)) / h;
            _intercept += delta;
            _offset += delta;
            return h * delta * delta / _nTrain;
        }

        /// <summary>Adds the pending intercept updates to η and the residuals.</summary>
        private void Materialize()
        {
            if (_offset != 0)
            {
                for (var i = 0; i < _y.Length; i++)
                {
                    _eta[i] += _offset;
                    _residual[i] -= _weight[i] * _offset;
                }

                _offset = 0;
            }

            double sum = 0;
            foreach (var r in _residual)
            {
                sum += r;
            }

            _residualSum = sum;
        }

        /// <summary>New IRLS weights μ(1−μ) and residuals y − μ at the current linear predictor (zero off the training rows).</summary>
        private void Refresh()
        {
            Materialize();
            _refreshes++;
            double weightSum = 0, residualSum = 0;
            for (var i = 0; i < _y.Length; i++)
            {
                if (IsTrain(i))
                {
                    var m = Logistic.Inverse(_eta[i]);
                    _weight[i] = m * (1 - m);
                    _residual[i] = _y[i] - m;
                    weightSum += _weight[i];
                    residualSum += _residual[i];
                }
                else
                {
                    _weight[i] = 0;
                    _residual[i] = 0;
                }
            }

            _weightSum = weightSum;
            _residualSum = residualSum;
            _gradientCurrent = false;
        }

        /// <summary>∂(−loglik)/∂βⱼ = Σᵢ xᵢⱼ(μᵢ − yᵢ) over training rows, for every column (skipped if nothing changed).</summary>
        private void ComputeGradient()
        {
            if (_gradientCurrent)
            {
                return;
            }

            Materialize();

            var columns = _x.Columns;
            var chunks = Math.Max(1, Math.Min(_options.MaxDegreeOfParallelism, 64));
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = _options.MaxDegreeOfParallelism }, c =>
            {
                var from = (int)((long)columns * c / chunks);
                var to = (int)((long)columns * (c + 1) / chunks);
                for (var j = from; j < to; j++)
                {
                    double g = 0;
                    foreach (var i in _x.Column(j))
                    {
                        g -= _residual[i];
                    }

                    _gradient[j] = g;
                }
            });
            _gradientCurrent = true;
        }

        /// <summary>Binomial deviance of the rows left out of training.</summary>
        public double HeldOutDeviance()
        {
            Materialize();
            double dev = 0;
            for (var i = 0; i < _y.Length; i++)
            {
                if (!IsTrain(i))
                {
                    var m = Logistic.Inverse(_eta[i]);
                    dev -= 2 * (_y[i] == 1 ? Math.Log(m) : Math.Log(1 - m));
                }
            }

            return dev;
        }

        public PenalizedFit Snapshot(double lambda)
        {
            Materialize();
            var fitted = new double[_y.Length];
            for (var i = 0; i < _y.Length; i++)
            {
                fitted[i] = Logistic.Inverse(_eta[i]);
            }

            return new PenalizedFit(lambda, _intercept, (double[])_beta.Clone(), fitted, _sweeps);
        }
    }
}
