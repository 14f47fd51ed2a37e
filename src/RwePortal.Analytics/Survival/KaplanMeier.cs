using MathNet.Numerics.Distributions;

namespace RwePortal.Analytics.Survival;

/// <summary>One step of a (weighted) Kaplan–Meier curve, at an event time.</summary>
public sealed record KmPoint(
    double Time,
    double AtRisk,
    double Events,
    double Survival,
    double StdErrLog,
    double Lower,
    double Upper);

/// <summary>A weighted Kaplan–Meier curve with a pointwise 95% band on the log scale.</summary>
public sealed record KmCurve(IReadOnlyList<KmPoint> Points)
{
    /// <summary>S(t): the value at the last event time at or before <paramref name="time"/>, 1 before the first.</summary>
    public double SurvivalAt(double time) => At(time)?.Survival ?? 1.0;

    /// <summary>The step in force at <paramref name="time"/>, or null before the first event time.</summary>
    public KmPoint? At(double time) => StepFunction.At(Points, p => p.Time, time);
}

/// <summary>
/// Weighted Kaplan–Meier: at each event time <c>S ← S·(1 − d_w/n_w)</c>, d_w the weighted events and n_w the
/// weighted number at risk (time ≥ t). The standard error of log S is the infinitesimal-jackknife (robust)
/// one, <c>Var log S(t) = Σᵢ (wᵢ Uᵢ(t))²</c> with
/// <c>Uᵢ(t) = Σ_{s ≤ min(t, tᵢ)} d(s)/(n(s)(n(s) − d(s))) − δᵢ·1[tᵢ ≤ t]/(n(tᵢ) − d(tᵢ))</c>, the derivative of
/// log S(t) with respect to person i's weight (see docs/decisions/0102-km-variance.md). With unit weights and
/// no ties it is close to Greenwood's; with estimated weights it is the variance R's
/// <c>survfit(..., robust = TRUE)</c> reports. The band is <c>S·exp(±1.96·se)</c>, capped at 1.
/// </summary>
public static class KaplanMeier
{
    public static KmCurve Fit(ReadOnlySpan<double> time, ReadOnlySpan<int> status, ReadOnlySpan<double> weights, double confidence = 0.95) =>
        Fit(time, status, weights, [], confidence);

    /// <summary>
    /// The same curve with the variance clustered: rows sharing a <paramref name="cluster"/> value (a person in
    /// several sequential trials) have their influence on log S summed before squaring, as
    /// <c>survfit(..., id = id, robust = TRUE)</c> does. An empty <paramref name="cluster"/> means one cluster per row.
    /// </summary>
    public static KmCurve Fit(ReadOnlySpan<double> time, ReadOnlySpan<int> status, ReadOnlySpan<double> weights, ReadOnlySpan<long> cluster, double confidence = 0.95)
    {
        var n = time.Length;
        if (status.Length != n || weights.Length != n || (!cluster.IsEmpty && cluster.Length != n))
        {
            throw new ArgumentException("Time, status, weights and cluster must have one value per row.", nameof(time));
        }

        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var keys = time.ToArray();
        Array.Sort(keys, order);

        var totalWeight = 0.0;
        foreach (var w in weights)
        {
            totalWeight += w;
        }

        var z = Normal.InvCDF(0, 1, 0.5 + (confidence / 2.0));
        var points = new List<KmPoint>();

        // Pass 1 (ascending time): survival and the Greenwood-type sum A(t) at each distinct time.
        var atRisk = totalWeight;
        var s = 1.0;
        var cumA = 0.0;
        var groupStart = new List<int>();
        var groupA = new List<double>();
        var groupC = new List<double>();
        var groupSurv = new List<double>();
        var groupEvents = new List<double>();
        var groupRisk = new List<double>();
        var start = 0;
        while (start < n)
        {
            var end = start;
            var t = keys[start];
            double d = 0, leaving = 0;
            while (end < n && keys[end] == t)
            {
                var idx = order[end];
                leaving += weights[idx];
                if (status[idx] == 1)
                {
                    d += weights[idx];
                }

                end++;
            }

            var c = 0.0;
            if (d > 0)
            {
                var remaining = atRisk - d;
                s *= remaining / atRisk;
                if (remaining > 0)
                {
                    cumA += d / (atRisk * remaining);
                    c = 1.0 / remaining;
                }
                else
                {
                    cumA = double.PositiveInfinity;
                    c = double.PositiveInfinity;
                }
            }

            groupStart.Add(start);
            groupA.Add(cumA);
            groupC.Add(c);
            groupSurv.Add(s);
            groupEvents.Add(d);
            groupRisk.Add(atRisk);
            atRisk -= leaving;
            start = end;
        }

        // Pass 2: each cluster's influence on log S(t) is A(t)·L_c + P_c, L_c the weight of its rows still at
        // risk after t and P_c = Σ_{i∈c, tᵢ≤t} wᵢ(A(tᵢ) − δᵢ c(tᵢ)); the variance Σ_c (A L_c + P_c)² is kept as
        // A²·ΣL² + 2A·ΣLP + ΣP², updated as rows leave.
        var (clusterOf, clusters) = ClusterIndex(cluster, n);
        var later = new double[clusters];
        var pastC = new double[clusters];
        for (var i = 0; i < n; i++)
        {
            later[clusterOf[i]] += weights[i];
        }

        double sumL2 = 0, sumLp = 0, sumP2 = 0;
        foreach (var l in later)
        {
            sumL2 += l * l;
        }

        var groups = groupStart.Count;
        for (var g = 0; g < groups; g++)
        {
            var end = g + 1 < groups ? groupStart[g + 1] : n;
            for (var r = groupStart[g]; r < end; r++)
            {
                var idx = order[r];
                var w = weights[idx];
                var c = clusterOf[idx];
                var u = groupA[g] - (status[idx] == 1 ? groupC[g] : 0.0);
                sumL2 -= later[c] * later[c];
                sumLp -= later[c] * pastC[c];
                sumP2 -= pastC[c] * pastC[c];
                later[c] -= w;
                pastC[c] += w * u;
                sumL2 += later[c] * later[c];
                sumLp += later[c] * pastC[c];
                sumP2 += pastC[c] * pastC[c];
            }

            if (groupEvents[g] > 0)
            {
                var a = groupA[g];
                var variance = (a * a * Math.Max(sumL2, 0.0)) + (2 * a * sumLp) + Math.Max(sumP2, 0.0);
                var se = Math.Sqrt(Math.Max(variance, 0.0));
                var sv = groupSurv[g];
                var lower = sv * Math.Exp(-z * se);
                var upper = Math.Min(1.0, sv * Math.Exp(z * se));
                if (!double.IsFinite(se) || !double.IsFinite(a))
                {
                    se = double.PositiveInfinity;
                    lower = 0;
                    upper = sv > 0 ? 1.0 : 0.0;
                }

                points.Add(new KmPoint(keys[groupStart[g]], groupRisk[g], groupEvents[g], sv, se, lower, upper));
            }
        }

        return new KmCurve(points);
    }

    /// <summary>Dense cluster numbers 0..C−1 per row; one cluster per row when <paramref name="cluster"/> is empty.</summary>
    internal static (int[] ClusterOf, int Clusters) ClusterIndex(ReadOnlySpan<long> cluster, int n)
    {
        var clusterOf = new int[n];
        if (cluster.IsEmpty)
        {
            for (var i = 0; i < n; i++)
            {
                clusterOf[i] = i;
            }

            return (clusterOf, n);
        }

        var ids = new Dictionary<long, int>();
        for (var i = 0; i < n; i++)
        {
            if (!ids.TryGetValue(cluster[i], out var c))
            {
                c = ids.Count;
                ids[cluster[i]] = c;
            }

            clusterOf[i] = c;
        }

        return (clusterOf, ids.Count);
    }
}
