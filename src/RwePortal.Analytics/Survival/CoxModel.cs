using MathNet.Numerics.Distributions;

namespace RwePortal.Analytics.Survival;

/// <summary>How tied event times enter the partial likelihood.</summary>
public enum TieMethod
{
    Breslow,
    Efron,
}

/// <summary>A weighted Cox fit on one covariate, with naive and robust (sandwich) standard errors.</summary>
public sealed record CoxFit(
    TieMethod Ties,
    double LogHr,
    double SeNaive,
    double SeRobust,
    double LogLikelihood,
    int Iterations,
    bool Converged)
{
    private static readonly double Z975 = Normal.InvCDF(0, 1, 0.975);

    public double Hr => Math.Exp(LogHr);

    public double CiLower => Math.Exp(LogHr - (Z975 * SeRobust));

    public double CiUpper => Math.Exp(LogHr + (Z975 * SeRobust));

    /// <summary>Two-sided Wald p-value with the robust standard error.</summary>
    public double PValue => 2.0 * Normal.CDF(0, 1, -Math.Abs(LogHr / SeRobust));
}

/// <summary>
/// Weighted Cox proportional-hazards regression on a single covariate (the treatment), reproducing
/// <c>survival::coxph(Surv(time, event) ~ x, weights = w, robust = TRUE, ties = ...)</c>: Newton–Raphson from
/// β = 0 with step halving, converged when the relative change in log partial likelihood is ≤ 1e-9 (at most
/// 20 iterations), the covariate centred at its weighted mean; the robust variance is <c>Σᵢ (wᵢ rᵢ / I)²</c>
/// with rᵢ the score residuals (Breslow or Efron) and I the information at the estimate. With a cluster per row
/// (persons repeating across sequential trials or per-protocol rows) the weighted residuals are first summed
/// within each cluster, <c>Σ_c (Σ_{i∈c} wᵢ rᵢ / I)²</c>, as <c>coxph(..., cluster = id)</c> does.
/// </summary>
public static class CoxModel
{
    public const double DefaultEpsilon = 1e-9;
    public const int DefaultMaxIterations = 20;

    public static CoxFit Fit(
        ReadOnlySpan<double> time,
        ReadOnlySpan<int> status,
        ReadOnlySpan<double> covariate,
        ReadOnlySpan<double> weights,
        TieMethod ties,
        double epsilon = DefaultEpsilon,
        int maxIterations = DefaultMaxIterations) =>
        Fit(time, status, covariate, weights, ties, [], epsilon, maxIterations);

    /// <summary>
    /// The same fit with a cluster-robust variance: rows sharing a <paramref name="cluster"/> value (a person)
    /// have their weighted score residuals summed before squaring. An empty <paramref name="cluster"/> means one
    /// cluster per row (the per-row sandwich, <c>robust = TRUE</c>).
    /// </summary>
    public static CoxFit Fit(
        ReadOnlySpan<double> time,
        ReadOnlySpan<int> status,
        ReadOnlySpan<double> covariate,
        ReadOnlySpan<double> weights,
        TieMethod ties,
        ReadOnlySpan<long> cluster,
        double epsilon = DefaultEpsilon,
        int maxIterations = DefaultMaxIterations)
    {
        var n = time.Length;
        if (status.Length != n || covariate.Length != n || weights.Length != n || (!cluster.IsEmpty && cluster.Length != n))
        {
            throw new ArgumentException("Time, status, covariate, weights and cluster must have one value per row.", nameof(time));
        }

        var data = Prepare(time, status, covariate, weights);
        var efron = ties == TieMethod.Efron;

        var beta = 0.0;
        var (loglik, u, info) = Iterate(data, beta, efron);
        var best = loglik;
        var newBeta = beta + (u / info);
        var halving = 0;
        var converged = false;
        var iteration = 0;
        for (iteration = 1; iteration <= maxIterations; iteration++)
        {
            var (newLik, newU, newInfo) = Iterate(data, newBeta, efron);
            var finite = double.IsFinite(newLik) && double.IsFinite(newU) && double.IsFinite(newInfo);
            if (finite && Math.Abs(1.0 - (best / newLik)) <= epsilon)
            {
                beta = newBeta;
                best = newLik;
                info = newInfo;
                converged = true;
                break;
            }

            if (!finite || newLik < best)
            {
                halving++;
                newBeta = (newBeta + (halving * beta)) / (halving + 1.0);
            }
            else
            {
                halving = 0;
                best = newLik;
                info = newInfo;
                beta = newBeta;
                newBeta += newU / newInfo;
            }
        }

        if (!converged)
        {
            (best, _, info) = Iterate(data, beta, efron);
        }

        var residuals = ScoreResiduals(data, beta, efron);
        var robust = 0.0;
        if (cluster.IsEmpty)
        {
            for (var i = 0; i < residuals.Length; i++)
            {
                var dfbeta = data.Weight[i] * residuals[i] / info;
                robust += dfbeta * dfbeta;
            }
        }
        else
        {
            var sums = new Dictionary<long, double>();
            for (var r = 0; r < residuals.Length; r++)
            {
                var id = cluster[data.Order[r]];
                sums[id] = sums.GetValueOrDefault(id) + (data.Weight[r] * residuals[r] / info);
            }

            foreach (var dfbeta in sums.Values)
            {
                robust += dfbeta * dfbeta;
            }
        }

        return new CoxFit(ties, beta, Math.Sqrt(1.0 / info), Math.Sqrt(robust), best, Math.Min(iteration, maxIterations), converged);
    }

    /// <summary>
    /// Data sorted by ascending time, events before censorings at the same time, covariate centred;
    /// <c>Order[r]</c> is the input row at sorted position r.
    /// </summary>
    private sealed record SortedData(double[] Time, int[] Status, double[] X, double[] Weight, int[] Order);

    private static SortedData Prepare(ReadOnlySpan<double> time, ReadOnlySpan<int> status, ReadOnlySpan<double> x, ReadOnlySpan<double> w)
    {
        var n = time.Length;
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var t = time.ToArray();
        var s = status.ToArray();
        Array.Sort(order, (a, b) =>
        {
            var c = t[a].CompareTo(t[b]);
            return c != 0 ? c : s[b].CompareTo(s[a]);
        });

        double sw = 0, swx = 0;
        for (var i = 0; i < n; i++)
        {
            sw += w[i];
            swx += w[i] * x[i];
        }

        var mean = swx / sw;
        var st = new double[n];
        var ss = new int[n];
        var sx = new double[n];
        var sww = new double[n];
        for (var r = 0; r < n; r++)
        {
            var i = order[r];
            st[r] = t[i];
            ss[r] = s[i];
            sx[r] = x[i] - mean;
            sww[r] = w[i];
        }

        return new SortedData(st, ss, sx, sww, order);
    }

    /// <summary>Log partial likelihood, score and information at <paramref name="beta"/> (as survival's coxfit6).</summary>
    private static (double LogLik, double U, double Info) Iterate(SortedData d, double beta, bool efron)
    {
        double loglik = 0, u = 0, imat = 0;
        double denom = 0, a = 0, cmat = 0;
        var person = d.Time.Length - 1;
        while (person >= 0)
        {
            var dtime = d.Time[person];
            var ndead = 0;
            double deadwt = 0, denom2 = 0, a2 = 0, cmat2 = 0;
            while (person >= 0 && d.Time[person] == dtime)
            {
                var x = d.X[person];
                var zbeta = beta * x;
                var risk = Math.Exp(zbeta) * d.Weight[person];
                if (d.Status[person] == 0)
                {
                    denom += risk;
                    a += risk * x;
                    cmat += risk * x * x;
                }
                else
                {
                    ndead++;
                    deadwt += d.Weight[person];
                    denom2 += risk;
                    loglik += d.Weight[person] * zbeta;
                    u += d.Weight[person] * x;
                    a2 += risk * x;
                    cmat2 += risk * x * x;
                }

                person--;
            }

            if (ndead == 0)
            {
                continue;
            }

            if (!efron || ndead == 1)
            {
                denom += denom2;
                loglik -= deadwt * Math.Log(denom);
                a += a2;
                var mean = a / denom;
                u -= deadwt * mean;
                cmat += cmat2;
                imat += deadwt * (cmat - (mean * a)) / denom;
            }
            else
            {
                var wtave = deadwt / ndead;
                for (var k = 0; k < ndead; k++)
                {
                    denom += denom2 / ndead;
                    loglik -= wtave * Math.Log(denom);
                    a += a2 / ndead;
                    var mean = a / denom;
                    u -= wtave * mean;
                    cmat += cmat2 / ndead;
                    imat += wtave * (cmat - (mean * a)) / denom;
                }
            }
        }

        return (loglik, u, imat);
    }

    /// <summary>
    /// Score residuals (survival's coxscore2) in O(n): per death time the hazard increments and hazard-weighted
    /// means are accumulated, so a person's residual is their own event term minus their exposure to the
    /// cumulative sums up to their exit time.
    /// </summary>
    private static double[] ScoreResiduals(SortedData d, double beta, bool efron)
    {
        var n = d.Time.Length;
        var score = new double[n];
        for (var i = 0; i < n; i++)
        {
            score[i] = Math.Exp(beta * d.X[i]);
        }

        // Risk-set sums per distinct time, walking down from the latest time.
        var groupStarts = new List<int>();
        for (var i = 0; i < n; i++)
        {
            if (i == 0 || d.Time[i] != d.Time[i - 1])
            {
                groupStarts.Add(i);
            }
        }

        var groups = groupStarts.Count;
        var h1 = new double[groups];
        var m1 = new double[groups];
        var deathMean = new double[groups];
        var h2 = new double[groups];
        var m2 = new double[groups];
        double denom = 0, a = 0;
        for (var g = groups - 1; g >= 0; g--)
        {
            var first = groupStarts[g];
            var last = g + 1 < groups ? groupStarts[g + 1] : n;
            double eDenom = 0, a2 = 0, meanwt = 0;
            var deaths = 0;
            for (var i = first; i < last; i++)
            {
                var risk = score[i] * d.Weight[i];
                denom += risk;
                a += risk * d.X[i];
                if (d.Status[i] == 1)
                {
                    deaths++;
                    eDenom += risk;
                    a2 += risk * d.X[i];
                    meanwt += d.Weight[i];
                }
            }

            if (deaths == 0)
            {
                continue;
            }

            if (deaths < 2 || !efron)
            {
                var hazard = meanwt / denom;
                var xbar = a / denom;
                h1[g] = hazard;
                m1[g] = hazard * xbar;
                deathMean[g] = xbar;
                h2[g] = hazard;
                m2[g] = hazard * xbar;
            }
            else
            {
                var wt = meanwt / deaths;
                for (var dd = 0; dd < deaths; dd++)
                {
                    var downwt = (double)dd / deaths;
                    var temp = denom - (downwt * eDenom);
                    var hazard = wt / temp;
                    var mean = (a - (downwt * a2)) / temp;
                    h1[g] += hazard;
                    m1[g] += hazard * mean;
                    deathMean[g] += mean / deaths;
                    h2[g] += hazard * (1 - downwt);
                    m2[g] += hazard * (1 - downwt) * mean;
                }
            }
        }

        var resid = new double[n];
        double cumH = 0, cumM = 0;
        for (var g = 0; g < groups; g++)
        {
            var first = groupStarts[g];
            var last = g + 1 < groups ? groupStarts[g + 1] : n;
            for (var i = first; i < last; i++)
            {
                var x = d.X[i];
                if (d.Status[i] == 1)
                {
                    resid[i] = x - deathMean[g] - (score[i] * ((x * (cumH + h2[g])) - (cumM + m2[g])));
                }
                else
                {
                    resid[i] = -score[i] * ((x * (cumH + h1[g])) - (cumM + m1[g]));
                }
            }

            cumH += h1[g];
            cumM += m1[g];
        }

        return resid;
    }
}
