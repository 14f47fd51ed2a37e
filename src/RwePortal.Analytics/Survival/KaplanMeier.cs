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
    public KmPoint? At(double time)
    {
        int lo = 0, hi = Points.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (Points[mid].Time <= time)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found < 0 ? null : Points[found];
    }
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
    public static KmCurve Fit(ReadOnlySpan<double> time, ReadOnlySpan<int> status, ReadOnlySpan<double> weights, double confidence = 0.95)
    {
        var n = time.Length;
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

        // Pass 2: Var log S(t) = A(t)²·Σ_{tᵢ>t} wᵢ² + Σ_{tᵢ≤t} wᵢ²(A(tᵢ) − δᵢ c(tᵢ))².
        var groups = groupStart.Count;
        var laterSq = 0.0;
        foreach (var w in weights)
        {
            laterSq += w * w;
        }

        var past = 0.0;
        for (var g = 0; g < groups; g++)
        {
            var end = g + 1 < groups ? groupStart[g + 1] : n;
            for (var r = groupStart[g]; r < end; r++)
            {
                var idx = order[r];
                var w = weights[idx];
                var u = groupA[g] - (status[idx] == 1 ? groupC[g] : 0.0);
                past += w * w * u * u;
                laterSq -= w * w;
            }

            if (groupEvents[g] > 0)
            {
                var a = groupA[g];
                var variance = (a * a * Math.Max(laterSq, 0.0)) + past;
                var se = Math.Sqrt(variance);
                var sv = groupSurv[g];
                var lower = sv * Math.Exp(-z * se);
                var upper = Math.Min(1.0, sv * Math.Exp(z * se));
                if (!double.IsFinite(se))
                {
                    lower = 0;
                    upper = sv > 0 ? 1.0 : 0.0;
                }

                points.Add(new KmPoint(keys[groupStart[g]], groupRisk[g], groupEvents[g], sv, se, lower, upper));
            }
        }

        return new KmCurve(points);
    }
}
