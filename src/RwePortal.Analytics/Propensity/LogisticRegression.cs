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
    bool Converged);

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
