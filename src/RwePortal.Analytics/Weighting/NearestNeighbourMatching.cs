namespace RwePortal.Analytics.Weighting;

/// <summary>Matched pairs (row indices) and the resulting 0/1 weights.</summary>
public sealed record MatchResult(IReadOnlyList<(int Treated, int Control)> Pairs, double[] Weights, double Caliper);

/// <summary>
/// Greedy 1:1 nearest-neighbour matching on the logit of the propensity score, without replacement, within a
/// caliper of <c>caliperSd</c> standard deviations of the logit PS (default 0.2, Austin 2011). Treated persons
/// are matched in descending order of PS (the hardest to match first, as MatchIt's default); ties in distance
/// go to the control with the lower PS. Matched persons get weight 1, everyone else 0, so the same balance and
/// outcome code runs on the matched sample.
/// </summary>
public static class NearestNeighbourMatching
{
    public const double DefaultCaliperSd = 0.2;

    public static MatchResult Match(ReadOnlySpan<double> ps, ReadOnlySpan<int> treatment, double caliperSd = DefaultCaliperSd)
    {
        var n = ps.Length;
        var logit = new double[n];
        double mean = 0;
        for (var i = 0; i < n; i++)
        {
            logit[i] = Math.Log(ps[i] / (1 - ps[i]));
            mean += logit[i];
        }

        mean /= n;
        double ss = 0;
        foreach (var l in logit)
        {
            ss += (l - mean) * (l - mean);
        }

        var caliper = caliperSd * Math.Sqrt(ss / (n - 1));
        var controls = new List<int>();
        var treated = new List<int>();
        for (var i = 0; i < n; i++)
        {
            (treatment[i] == 1 ? treated : controls).Add(i);
        }

        var controlIdx = controls.ToArray();
        var controlKeys = controlIdx.Select(i => logit[i]).ToArray();
        Array.Sort(controlKeys, controlIdx);
        var m = controlIdx.Length;

        // Union–find "next free slot" pointers. right[k] = k while slot k is free (slot m = none to the right);
        // left is shifted by one: left[k + 1] describes slot k and left[0] means none to the left.
        var right = new int[m + 1];
        var left = new int[m + 1];
        for (var k = 0; k <= m; k++)
        {
            right[k] = k;
            left[k] = k;
        }

        var treatedOrder = treated.ToArray();
        var psCopy = ps.ToArray();
        var treatedKeys = treatedOrder.Select(i => -psCopy[i]).ToArray();
        Array.Sort(treatedKeys, treatedOrder);

        var weights = new double[n];
        var pairs = new List<(int, int)>();
        foreach (var t in treatedOrder)
        {
            var pos = LowerBound(controlKeys, logit[t]);
            var r = Find(right, pos);
            var l = Find(left, pos) - 1;
            var best = -1;
            var bestDist = double.PositiveInfinity;
            if (l >= 0)
            {
                best = l;
                bestDist = logit[t] - controlKeys[l];
            }

            if (r < m && controlKeys[r] - logit[t] < bestDist)
            {
                best = r;
                bestDist = controlKeys[r] - logit[t];
            }

            if (best < 0 || bestDist > caliper)
            {
                continue;
            }

            right[best] = best + 1;
            left[best + 1] = best;
            var c = controlIdx[best];
            weights[t] = 1;
            weights[c] = 1;
            pairs.Add((t, c));
        }

        return new MatchResult(pairs, weights, caliper);
    }

    private static int Find(int[] parent, int k)
    {
        var root = k;
        while (parent[root] != root)
        {
            root = parent[root];
        }

        while (parent[k] != root)
        {
            var next = parent[k];
            parent[k] = root;
            k = next;
        }

        return root;
    }

    private static int LowerBound(double[] keys, double value)
    {
        int lo = 0, hi = keys.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (keys[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
