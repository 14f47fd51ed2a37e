using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Double;
using RwePortal.Analytics.Numerics;

namespace RwePortal.Analytics.Propensity;

/// <summary>A fitted logistic model: coefficients (intercept first) and fitted probabilities.</summary>
public sealed record LogisticFit(
    IReadOnlyList<string> Names,
    double[] Coefficients,
    double[] Fitted,
    double Deviance,
    int Iterations,
    bool Converged)
{
    /// <summary>
    /// Covariates (0-based, intercept not counted) that are linear combinations of the intercept and the covariates
    /// before them, left out of the fit with coefficient 0 where R's glm reports NA (<see cref="LogisticRegression.FitSparse"/>).
    /// </summary>
    public IReadOnlyList<int> Aliased { get; init; } = [];
}

/// <summary>
/// A covariate column stored sparsely: the rows where it is stored (ascending) and its values there; every other row is 0.
/// Continuous covariates may be stored for every row; explicit zeros are allowed.
/// </summary>
public sealed record SparseColumn(int[] Rows, double[] Values)
{
    /// <summary>The column as a dense vector of <paramref name="persons"/> values.</summary>
    public double[] ToDense(int persons)
    {
        var x = new double[persons];
        for (var k = 0; k < Rows.Length; k++)
        {
            x[Rows[k]] = Values[k];
        }

        return x;
    }
}

/// <summary>
/// Unpenalised logistic regression by maximum likelihood, iterated exactly as R's <c>glm.fit</c>
/// (IRLS from <c>mustart = (y + 0.5) / 2</c>, stop when the relative change in deviance is below 1e-8,
/// at most 25 iterations), so that coefficients and fitted values reproduce R's to rounding.
/// Columns are centred and scaled internally for a well-conditioned normal-equations solve; IRLS is
/// affine invariant so this does not change the iterates.
/// </summary>
public static class LogisticRegression
{
    public const double DefaultEpsilon = 1e-8;
    public const int DefaultMaxIterations = 25;

    /// <summary>
    /// A column is aliased when the share of its (weighted, centred and scaled) sum of squares left after projecting it
    /// on the columns before it is below this: R² above 1 − 1e-9 with them, glm's rank test done on XᵀWX instead of on X.
    /// </summary>
    public const double AliasTolerance = 1e-9;

    /// <summary>Fits <c>y ~ 1 + columns</c>. Throws <see cref="ArgumentException"/> for a constant column.</summary>
    public static LogisticFit Fit(
        IReadOnlyList<double[]> columns,
        IReadOnlyList<string> names,
        ReadOnlySpan<int> y,
        double epsilon = DefaultEpsilon,
        int maxIterations = DefaultMaxIterations)
    {
        var n = y.Length;
        var p = columns.Count;
        var k = p + 1;
        var means = new double[p];
        var scales = new double[p];
        var storage = new double[n * k];
        storage.AsSpan(0, n).Fill(1.0);
        for (var j = 0; j < p; j++)
        {
            var col = columns[j];
            var mean = 0.0;
            for (var i = 0; i < n; i++)
            {
                mean += col[i];
            }

            mean /= n;
            var ss = 0.0;
            for (var i = 0; i < n; i++)
            {
                var d = col[i] - mean;
                ss += d * d;
            }

            var sd = Math.Sqrt(ss / Math.Max(1, n - 1));
            if (sd == 0.0)
            {
                throw new ArgumentException($"Covariate '{names[j]}' is constant.", nameof(columns));
            }

            means[j] = mean;
            scales[j] = sd;
            var dest = storage.AsSpan((j + 1) * n, n);
            for (var i = 0; i < n; i++)
            {
                dest[i] = (col[i] - mean) / sd;
            }
        }

        var design = DenseMatrix.OfColumnMajor(n, k, storage);
        var ws = new double[n * k];
        var eta = new double[n];
        var mu = new double[n];
        var zw = new double[n];
        var irlsWeight = new double[n];
        var yd = new double[n];
        for (var i = 0; i < n; i++)
        {
            yd[i] = y[i];
            var start = (y[i] + 0.5) / 2.0;
            eta[i] = Logistic.Logit(start);
            mu[i] = Logistic.Inverse(eta[i]);
        }

        var devOld = Deviance(yd, mu);
        var beta = Vector<double>.Build.Dense(k);
        var dev = devOld;
        var converged = false;
        var iteration = 0;
        for (iteration = 1; iteration <= maxIterations; iteration++)
        {
            for (var i = 0; i < n; i++)
            {
                var muEta = Logistic.Derivative(eta[i]);
                var variance = mu[i] * (1.0 - mu[i]);
                var z = eta[i] + ((yd[i] - mu[i]) / muEta);
                var w = muEta * muEta / variance;
                zw[i] = w * z;
                irlsWeight[i] = w;
            }

            for (var j = 0; j < k; j++)
            {
                var src = storage.AsSpan(j * n, n);
                var dst = ws.AsSpan(j * n, n);
                for (var i = 0; i < n; i++)
                {
                    dst[i] = src[i] * irlsWeight[i];
                }
            }

            var information = CrossProduct(ws, storage, n, k);
            var rhs = design.TransposeThisAndMultiply(Vector<double>.Build.Dense(zw));
            beta = Solve(information, rhs);
            var etaVector = design * beta;
            dev = 0.0;
            for (var i = 0; i < n; i++)
            {
                eta[i] = etaVector[i];
                mu[i] = Logistic.Inverse(eta[i]);
            }

            dev = Deviance(yd, mu);
            if (!double.IsFinite(dev))
            {
                break;
            }

            if (Math.Abs(dev - devOld) / (Math.Abs(dev) + 0.1) < epsilon)
            {
                converged = true;
                break;
            }

            devOld = dev;
        }

        var coefficients = new double[k];
        var intercept = beta[0];
        for (var j = 0; j < p; j++)
        {
            coefficients[j + 1] = beta[j + 1] / scales[j];
            intercept -= coefficients[j + 1] * means[j];
        }

        coefficients[0] = intercept;
        var allNames = new List<string>(k) { "(Intercept)" };
        allNames.AddRange(names);
        return new LogisticFit(allNames, coefficients, mu, dev, Math.Min(iteration, maxIterations), converged);
    }

    /// <summary>
    /// The same fit as <see cref="Fit(IReadOnlyList{double[]}, IReadOnlyList{string}, ReadOnlySpan{int}, double, int)"/>
    /// on sparse columns, without a dense n × k design: each IRLS iteration accumulates Xᵀ·W·X row by row over the
    /// row's stored entries (Σᵢ rᵢ² work, rᵢ the row's stored entries, instead of n·k²), on all cores, then centres
    /// and scales it algebraically to the same standardised information matrix the dense fit solves; the iterates
    /// and the stopping rule are R's. Results equal the dense fit's to rounding. As glm.fit's pivoted QR does, a
    /// column that is a linear combination of the intercept and the columns before it (<see cref="AliasTolerance"/>,
    /// judged on the first iteration's information matrix) is left out: coefficient 0, listed in <see cref="LogisticFit.Aliased"/>.
    /// </summary>
    public static LogisticFit FitSparse(
        IReadOnlyList<SparseColumn> columns,
        IReadOnlyList<string> names,
        ReadOnlySpan<int> y,
        double epsilon = DefaultEpsilon,
        int maxIterations = DefaultMaxIterations)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var n = y.Length;
        var p = columns.Count;
        var k = p + 1;
        var means = new double[k];
        var scales = new double[k];
        scales[0] = 1.0;
        var counts = new int[n + 1];
        for (var j = 0; j < p; j++)
        {
            var (rows, values) = (columns[j].Rows, columns[j].Values);
            var mean = 0.0;
            foreach (var v in values)
            {
                mean += v;
            }

            mean /= n;
            var ss = (n - values.Length) * mean * mean;
            foreach (var v in values)
            {
                var d = v - mean;
                ss += d * d;
            }

            var sd = Math.Sqrt(ss / Math.Max(1, n - 1));
            if (sd == 0.0 || !double.IsFinite(sd))
            {
                throw new ArgumentException($"Covariate '{names[j]}' is constant.", nameof(columns));
            }

            means[j + 1] = mean;
            scales[j + 1] = sd;
            foreach (var i in rows)
            {
                counts[i + 1]++;
            }
        }

        // Row-major copy (CSR) of the stored entries, columns ascending within a row (1-based: 0 is the intercept).
        for (var i = 0; i < n; i++)
        {
            counts[i + 1] += counts[i];
        }

        var rowStart = (int[])counts.Clone();
        var colIndex = new int[counts[n]];
        var colValue = new double[counts[n]];
        var fill = (int[])counts.Clone();
        for (var j = 0; j < p; j++)
        {
            var (rows, values) = (columns[j].Rows, columns[j].Values);
            for (var e = 0; e < rows.Length; e++)
            {
                var at = fill[rows[e]]++;
                colIndex[at] = j + 1;
                colValue[at] = values[e];
            }
        }

        var eta = new double[n];
        var mu = new double[n];
        var zw = new double[n];
        var irlsWeight = new double[n];
        var yd = new double[n];
        for (var i = 0; i < n; i++)
        {
            yd[i] = y[i];
            eta[i] = Logistic.Logit((y[i] + 0.5) / 2.0);
            mu[i] = Logistic.Inverse(eta[i]);
        }

        var devOld = Deviance(yd, mu);
        var beta = Vector<double>.Build.Dense(k);
        var dev = devOld;
        var converged = false;
        var iteration = 0;
        var chunks = Math.Max(1, Math.Min(Environment.ProcessorCount, n / 1000));
        var partial = new double[chunks][];
        int[]? kept = null;
        for (iteration = 1; iteration <= maxIterations; iteration++)
        {
            for (var i = 0; i < n; i++)
            {
                var muEta = Logistic.Derivative(eta[i]);
                var variance = mu[i] * (1.0 - mu[i]);
                var z = eta[i] + ((yd[i] - mu[i]) / muEta);
                var w = muEta * muEta / variance;
                zw[i] = w * z;
                irlsWeight[i] = w;
            }

            // Raw XᵀWX (upper triangle, intercept as column 0) and XᵀWz, per chunk of rows.
            var rawRhs = new double[chunks * k];
            Parallel.For(0, chunks, c =>
            {
                var gram = partial[c] ??= new double[k * k];
                Array.Clear(gram);
                var rhs = rawRhs.AsSpan(c * k, k);
                var from = (int)((long)n * c / chunks);
                var to = (int)((long)n * (c + 1) / chunks);
                for (var i = from; i < to; i++)
                {
                    var w = irlsWeight[i];
                    gram[0] += w;
                    rhs[0] += zw[i];
                    var start = rowStart[i];
                    var end = rowStart[i + 1];
                    for (var a = start; a < end; a++)
                    {
                        var ca = colIndex[a];
                        var wa = w * colValue[a];
                        gram[ca] += wa;
                        rhs[ca] += zw[i] * colValue[a];
                        var baseRow = ca * k;
                        for (var b = a; b < end; b++)
                        {
                            gram[baseRow + colIndex[b]] += wa * colValue[b];
                        }
                    }
                }
            });

            var raw = partial[0];
            var rawZ = new double[k];
            for (var c = 0; c < chunks; c++)
            {
                if (c > 0)
                {
                    var other = partial[c];
                    for (var e = 0; e < raw.Length; e++)
                    {
                        raw[e] += other[e];
                    }
                }

                for (var a = 0; a < k; a++)
                {
                    rawZ[a] += rawRhs[(c * k) + a];
                }
            }

            // Centre and scale: X̃ = (X − 1·mᵀ)·S⁻¹ with the intercept column kept, so X̃ᵀWX̃ and X̃ᵀWz follow from the raw sums.
            var information = new DenseMatrix(k, k);
            var info = information.Values;
            for (var a = 0; a < k; a++)
            {
                for (var b = a; b < k; b++)
                {
                    var value = raw[(a * k) + b] - (means[a] * raw[b]) - (means[b] * raw[a]) + (means[a] * means[b] * raw[0]);
                    value /= scales[a] * scales[b];
                    info[(b * k) + a] = value;
                    info[(a * k) + b] = value;
                }
            }

            var rhsVector = Vector<double>.Build.Dense(k);
            for (var a = 0; a < k; a++)
            {
                rhsVector[a] = (rawZ[a] - (means[a] * rawZ[0])) / scales[a];
            }

            kept ??= NotAliased(info, k);
            beta = kept.Length == k ? Solve(information, rhsVector) : SolveKept(information, rhsVector, kept);

            // η = β̃₀ + Σⱼ (xⱼ − mⱼ)·β̃ⱼ/sⱼ.
            var slope = new double[k];
            var offset = beta[0];
            for (var a = 1; a < k; a++)
            {
                slope[a] = beta[a] / scales[a];
                offset -= slope[a] * means[a];
            }

            for (var i = 0; i < n; i++)
            {
                var value = offset;
                for (var e = rowStart[i]; e < rowStart[i + 1]; e++)
                {
                    value += slope[colIndex[e]] * colValue[e];
                }

                eta[i] = value;
                mu[i] = Logistic.Inverse(value);
            }

            dev = Deviance(yd, mu);
            if (!double.IsFinite(dev))
            {
                break;
            }

            if (Math.Abs(dev - devOld) / (Math.Abs(dev) + 0.1) < epsilon)
            {
                converged = true;
                break;
            }

            devOld = dev;
        }

        var coefficients = new double[k];
        var intercept = beta[0];
        for (var j = 1; j < k; j++)
        {
            coefficients[j] = beta[j] / scales[j];
            intercept -= coefficients[j] * means[j];
        }

        coefficients[0] = intercept;
        var allNames = new List<string>(k) { "(Intercept)" };
        allNames.AddRange(names);
        var aliased = kept is null || kept.Length == k ? [] : Enumerable.Range(1, k - 1).Except(kept).Select(j => j - 1).ToArray();
        return new LogisticFit(allNames, coefficients, mu, dev, Math.Min(iteration, maxIterations), converged) { Aliased = aliased };
    }

    /// <summary>
    /// The columns (intercept = 0) kept by a Cholesky factorisation in column order that skips each column whose pivot
    /// is below <see cref="AliasTolerance"/> of its diagonal: the columns that are not linear combinations of those before them.
    /// </summary>
    private static int[] NotAliased(double[] info, int k)
    {
        var kept = new List<int>(k);
        var factor = new double[k * k];
        var row = new double[k];
        for (var a = 0; a < k; a++)
        {
            var diagonal = info[(a * k) + a];
            var pivot = diagonal;
            for (var r = 0; r < kept.Count; r++)
            {
                var sum = info[(a * k) + kept[r]];
                for (var q = 0; q < r; q++)
                {
                    sum -= factor[(r * k) + q] * row[q];
                }

                row[r] = sum / factor[(r * k) + r];
                pivot -= row[r] * row[r];
            }

            if (diagonal > 0 && pivot > AliasTolerance * diagonal)
            {
                var at = kept.Count;
                for (var q = 0; q < at; q++)
                {
                    factor[(at * k) + q] = row[q];
                }

                factor[(at * k) + at] = Math.Sqrt(pivot);
                kept.Add(a);
            }
        }

        return [.. kept];
    }

    /// <summary>The solution on the kept columns; 0 for the others.</summary>
    private static Vector<double> SolveKept(Matrix<double> information, Vector<double> rhs, int[] kept)
    {
        var reduced = DenseMatrix.Create(kept.Length, kept.Length, (a, b) => information[kept[a], kept[b]]);
        var solution = Solve(reduced, Vector<double>.Build.Dense(kept.Length, a => rhs[kept[a]]));
        var beta = Vector<double>.Build.Dense(rhs.Count);
        for (var a = 0; a < kept.Length; a++)
        {
            beta[kept[a]] = solution[a];
        }

        return beta;
    }

    /// <summary>
    /// <c>Aᵀ·B</c> for column-major n × k matrices where the result is known to be symmetric (A = W·B): only the
    /// upper triangle is computed, each entry a SIMD dot product, columns in parallel. This is the hot spot of
    /// IRLS (n·k²/2 multiply–adds per iteration) and several times faster than a general matrix product.
    /// </summary>
    private static DenseMatrix CrossProduct(double[] a, double[] b, int n, int k)
    {
        var result = new DenseMatrix(k, k);
        var values = result.Values;
        Parallel.For(0, k, col =>
        {
            var bc = b.AsSpan(col * n, n);
            for (var row = 0; row <= col; row++)
            {
                var dot = Dot(a.AsSpan(row * n, n), bc);
                values[(col * k) + row] = dot;
                values[(row * k) + col] = dot;
            }
        });
        return result;
    }

    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        var acc = System.Numerics.Vector<double>.Zero;
        var width = System.Numerics.Vector<double>.Count;
        var i = 0;
        for (; i <= x.Length - width; i += width)
        {
            acc += new System.Numerics.Vector<double>(x.Slice(i, width)) * new System.Numerics.Vector<double>(y.Slice(i, width));
        }

        var sum = System.Numerics.Vector.Sum(acc);
        for (; i < x.Length; i++)
        {
            sum += x[i] * y[i];
        }

        return sum;
    }

    private static Vector<double> Solve(Matrix<double> information, Vector<double> rhs)
    {
        try
        {
            return information.Cholesky().Solve(rhs);
        }
        catch (ArgumentException)
        {
            return information.QR().Solve(rhs);
        }
    }

    /// <summary>Binomial deviance for 0/1 outcomes.</summary>
    internal static double Deviance(ReadOnlySpan<double> y, ReadOnlySpan<double> mu)
    {
        var dev = 0.0;
        for (var i = 0; i < y.Length; i++)
        {
            dev -= 2.0 * (y[i] > 0.5 ? Math.Log(mu[i]) : Math.Log(1.0 - mu[i]));
        }

        return dev;
    }
}
