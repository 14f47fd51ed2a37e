using RwePortal.Analytics.Propensity;

namespace RwePortal.Analytics.Tests.Support;

/// <summary>Small seeded sparse binary problems with a known treatment model.</summary>
public static class Synthetic
{
    public static (SparseBinaryMatrix X, int[] Y) SparseProblem(int n, int p, double density, IReadOnlyDictionary<int, double> truth, double intercept, int seed)
    {
        var random = new Random(seed);
        var columns = new int[p][];
        var eta = new double[n];
        Array.Fill(eta, intercept);
        for (var j = 0; j < p; j++)
        {
            var rows = new List<int>();
            for (var i = 0; i < n; i++)
            {
                if (random.NextDouble() < density)
                {
                    rows.Add(i);
                }
            }

            columns[j] = [.. rows];
            if (truth.TryGetValue(j, out var b))
            {
                foreach (var i in rows)
                {
                    eta[i] += b;
                }
            }
        }

        var y = new int[n];
        for (var i = 0; i < n; i++)
        {
            y[i] = random.NextDouble() < 1 / (1 + Math.Exp(-eta[i])) ? 1 : 0;
        }

        var names = Enumerable.Range(0, p).Select(j => $"x{j}").ToArray();
        return (SparseBinaryMatrix.FromColumns(n, columns, names), y);
    }
}
