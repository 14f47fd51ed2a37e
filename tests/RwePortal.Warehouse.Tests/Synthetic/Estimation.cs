namespace RwePortal.Warehouse.Tests.Synthetic;

/// <summary>
/// Small, textbook estimators used to check the synthetic design: logistic regression by IRLS and a weighted Cox
/// model (Breslow ties) by Newton-Raphson. Independent of the analytics engine on purpose: these tests check the
/// data, not the engine.
/// </summary>
internal static class Estimation
{
    /// <summary>Logistic regression coefficients (intercept first) for rows x (without intercept) and 0/1 outcome y.</summary>
    public static double[] Logistic(IReadOnlyList<double[]> x, IReadOnlyList<bool> y, int iterations = 25)
    {
        var p = x[0].Length + 1;
        var beta = new double[p];
        for (var it = 0; it < iterations; it++)
        {
            var gradient = new double[p];
            var hessian = new double[p, p];
            for (var i = 0; i < x.Count; i++)
            {
                var row = WithIntercept(x[i]);
                var eta = Dot(row, beta);
                var mu = 1 / (1 + Math.Exp(-eta));
                var w = mu * (1 - mu);
                var residual = (y[i] ? 1 : 0) - mu;
                for (var a = 0; a < p; a++)
                {
                    gradient[a] += row[a] * residual;
                    for (var b = 0; b < p; b++)
                    {
                        hessian[a, b] += w * row[a] * row[b];
                    }
                }
            }

            var step = Solve(hessian, gradient);
            for (var a = 0; a < p; a++)
            {
                beta[a] += step[a];
            }

            if (step.Max(Math.Abs) < 1e-9)
            {
                break;
            }
        }

        return beta;
    }

    public static double Predict(double[] beta, double[] x) => 1 / (1 + Math.Exp(-Dot(WithIntercept(x), beta)));

    /// <summary>Weighted Cox partial-likelihood coefficients (Breslow ties) for times, events, covariates and weights.</summary>
    public static double[] Cox(IReadOnlyList<double> time, IReadOnlyList<bool> evt, IReadOnlyList<double[]> x, IReadOnlyList<double>? weight = null, int iterations = 30)
    {
        var n = time.Count;
        var p = x[0].Length;
        var order = Enumerable.Range(0, n).OrderByDescending(i => time[i]).ToArray();
        var beta = new double[p];
        for (var it = 0; it < iterations; it++)
        {
            var gradient = new double[p];
            var hessian = new double[p, p];
            double s0 = 0;
            var s1 = new double[p];
            var s2 = new double[p, p];
            var k = 0;
            while (k < n)
            {
                // All subjects tied at this time enter the risk set before any of their events are scored.
                var t = time[order[k]];
                var end = k;
                while (end < n && time[order[end]] == t)
                {
                    var i = order[end];
                    var w = weight?[i] ?? 1;
                    var r = w * Math.Exp(Dot(x[i], beta));
                    s0 += r;
                    for (var a = 0; a < p; a++)
                    {
                        s1[a] += r * x[i][a];
                        for (var b = 0; b < p; b++)
                        {
                            s2[a, b] += r * x[i][a] * x[i][b];
                        }
                    }

                    end++;
                }

                for (var j = k; j < end; j++)
                {
                    var i = order[j];
                    if (!evt[i])
                    {
                        continue;
                    }

                    var w = weight?[i] ?? 1;
                    for (var a = 0; a < p; a++)
                    {
                        var mean = s1[a] / s0;
                        gradient[a] += w * (x[i][a] - mean);
                        for (var b = 0; b < p; b++)
                        {
                            hessian[a, b] += w * ((s2[a, b] / s0) - (mean * s1[b] / s0));
                        }
                    }
                }

                k = end;
            }

            var step = Solve(hessian, gradient);
            for (var a = 0; a < p; a++)
            {
                beta[a] += step[a];
            }

            if (step.Max(Math.Abs) < 1e-9)
            {
                break;
            }
        }

        return beta;
    }

    private static double[] WithIntercept(double[] x)
    {
        var row = new double[x.Length + 1];
        row[0] = 1;
        Array.Copy(x, 0, row, 1, x.Length);
        return row;
    }

    private static double Dot(double[] a, double[] b)
    {
        var s = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }

    /// <summary>Solves A x = b by Gaussian elimination with partial pivoting (A is small and positive definite).</summary>
    private static double[] Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        var m = (double[,])a.Clone();
        var v = (double[])b.Clone();
        for (var c = 0; c < n; c++)
        {
            var pivot = c;
            for (var r = c + 1; r < n; r++)
            {
                if (Math.Abs(m[r, c]) > Math.Abs(m[pivot, c]))
                {
                    pivot = r;
                }
            }

            for (var k = 0; k < n; k++)
            {
                (m[c, k], m[pivot, k]) = (m[pivot, k], m[c, k]);
            }

            (v[c], v[pivot]) = (v[pivot], v[c]);
            for (var r = c + 1; r < n; r++)
            {
                var f = m[r, c] / m[c, c];
                for (var k = c; k < n; k++)
                {
                    m[r, k] -= f * m[c, k];
                }

                v[r] -= f * v[c];
            }
        }

        var x = new double[n];
        for (var r = n - 1; r >= 0; r--)
        {
            var s = v[r];
            for (var k = r + 1; k < n; k++)
            {
                s -= m[r, k] * x[k];
            }

            x[r] = s / m[r, r];
        }

        return x;
    }
}
