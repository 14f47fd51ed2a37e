using MathNet.Numerics.Distributions;
using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Propensity;

namespace RwePortal.Analytics.Simulation;

/// <summary>A cohort whose outcome for both treatments is known (for the marginal truth).</summary>
public sealed record PotentialOutcomes(double[] TimeIfTreated, int[] EventIfTreated, double[] TimeIfControl, int[] EventIfControl);

/// <summary>A sparse high-dimensional cohort: outcomes plus 0/1 covariates stored by column.</summary>
public sealed record SparseCohort(Cohort Outcomes, SparseBinaryMatrix Covariates);

/// <summary>
/// Seeded synthetic cohorts with a known treatment effect, for simulation studies and benchmarks. The
/// confounded design mirrors the one the R fixtures were made with (make_fixtures.R): age, sex, diabetes, CKD,
/// LVEF, daily steps, a genetic variant and log prior cost drive both treatment and an exponential event time;
/// censoring is uniform on 30–1095 days and times are rounded up to whole days (ties, as in real data).
/// </summary>
public static class SyntheticCohorts
{
    public static readonly IReadOnlyList<string> ConfoundedCovariates = ["age", "female", "diabetes", "ckd", "lvef", "steps", "variant", "log_cost"];

    public static (Cohort Cohort, PotentialOutcomes Potential) Confounded(int n, double conditionalHr, int seed)
    {
        var rng = new Random(seed);
        var cols = ConfoundedCovariates.Select(_ => new double[n]).ToArray();
        var treatment = new int[n];
        var time = new double[n];
        var events = new int[n];
        var t1 = new double[n];
        var e1 = new int[n];
        var t0 = new double[n];
        var e0 = new int[n];
        for (var i = 0; i < n; i++)
        {
            var age = Math.Round(Normal.Sample(rng, 67, 11), 1);
            var female = Bernoulli(rng, 0.45);
            var diabetes = Bernoulli(rng, Expit(-1 + (0.02 * (age - 67))));
            var ckd = Bernoulli(rng, Expit(-1.8 + (0.6 * diabetes) + (0.03 * (age - 67))));
            var lvef = Math.Round(Math.Min(75, Math.Max(10, Normal.Sample(rng, 45 - (4 * ckd), 10))));
            var steps = Math.Round(Math.Max(200, Normal.Sample(rng, 5200 - (40 * (age - 67)) - (900 * ckd), 1800)));
            var variant = Bernoulli(rng, 0.08);
            var logCost = Math.Round(Normal.Sample(rng, 8.5 + (0.5 * ckd) + (0.3 * diabetes), 0.8), 3);
            double[] x = [age, female, diabetes, ckd, lvef, steps, variant, logCost];
            for (var j = 0; j < x.Length; j++)
            {
                cols[j][i] = x[j];
            }

            var lpT = -0.3 + (0.025 * (age - 67)) - (0.2 * female) + (0.5 * diabetes) + (0.7 * ckd) - (0.03 * (lvef - 45))
                + (0.00015 * (steps - 5000)) + (0.4 * variant) + (0.25 * (logCost - 8.7));
            treatment[i] = Bernoulli(rng, Expit(lpT));
            var lpY = (0.03 * (age - 67)) + (0.4 * diabetes) + (0.6 * ckd) - (0.025 * (lvef - 45)) - (0.0001 * (steps - 5000)) + (0.3 * variant);

            // One uniform drives both potential event times, so they differ only by the treatment effect.
            var u = rng.NextDouble();
            var censor = 30 + (rng.NextDouble() * (1095 - 30));
            var baseRate = 0.0009 * Math.Exp(lpY);
            (t1[i], e1[i]) = Observe(-Math.Log(u) / (baseRate * conditionalHr), censor);
            (t0[i], e0[i]) = Observe(-Math.Log(u) / baseRate, censor);
            (time[i], events[i]) = treatment[i] == 1 ? (t1[i], e1[i]) : (t0[i], e0[i]);
        }

        var ids = Enumerable.Range(1, n).Select(i => (long)i).ToArray();
        return (new Cohort(ids, treatment, time, events, ConfoundedCovariates, cols), new PotentialOutcomes(t1, e1, t0, e0));
    }

    /// <summary>
    /// n persons with <paramref name="covariates"/> dense covariates (alternately continuous N(0,1) and binary),
    /// the first ten confounders of treatment and outcome; conditional HR <paramref name="conditionalHr"/>.
    /// </summary>
    public static Cohort Dense(int n, int covariates, double conditionalHr, int seed)
    {
        var rng = new Random(seed);
        var cols = new double[covariates][];
        for (var j = 0; j < covariates; j++)
        {
            cols[j] = new double[n];
            for (var i = 0; i < n; i++)
            {
                cols[j][i] = j % 2 == 0 ? Normal.Sample(rng, 0, 1) : Bernoulli(rng, 0.1 + (0.3 * (j % 5) / 4.0));
            }
        }

        var treatment = new int[n];
        var time = new double[n];
        var events = new int[n];
        for (var i = 0; i < n; i++)
        {
            double lpT = -0.2, lpY = 0;
            for (var j = 0; j < Math.Min(10, covariates); j++)
            {
                var b = j % 3 == 0 ? 0.4 : j % 3 == 1 ? -0.3 : 0.2;
                lpT += b * cols[j][i];
                lpY += 0.5 * b * cols[j][i];
            }

            treatment[i] = Bernoulli(rng, Expit(lpT));
            var rate = 0.001 * Math.Exp(lpY + (treatment[i] == 1 ? Math.Log(conditionalHr) : 0));
            (time[i], events[i]) = Observe(-Math.Log(rng.NextDouble()) / rate, 30 + (rng.NextDouble() * (1095 - 30)));
        }

        var names = Enumerable.Range(1, covariates).Select(j => $"x{j}").ToArray();
        return new Cohort(Enumerable.Range(1, n).Select(i => (long)i).ToArray(), treatment, time, events, names, cols);
    }

    /// <summary>
    /// n persons with p sparse 0/1 covariates, each present with probability <paramref name="density"/>; 40 of
    /// them drive treatment and 20 of those the outcome.
    /// </summary>
    public static SparseCohort Sparse(int n, int p, double density, double conditionalHr, int seed)
    {
        var rng = new Random(seed);
        var columns = new int[p][];
        var lpT = new double[n];
        var lpY = new double[n];
        Array.Fill(lpT, -0.4);
        var logSkip = Math.Log(1 - density);
        for (var j = 0; j < p; j++)
        {
            var rows = new List<int>((int)(n * density * 1.2));
            var i = -1;
            while (true)
            {
                // Geometric gaps give each row an independent chance `density`, in O(non-zeros).
                i += 1 + (int)Math.Floor(Math.Log(1 - rng.NextDouble()) / logSkip);
                if (i >= n)
                {
                    break;
                }

                rows.Add(i);
            }

            columns[j] = [.. rows];
            if (j < 40)
            {
                var b = (j % 2 == 0 ? 1 : -1) * (0.3 + (0.5 * (j % 5) / 4.0));
                foreach (var r in columns[j])
                {
                    lpT[r] += b;
                    if (j < 20)
                    {
                        lpY[r] += 0.5 * b;
                    }
                }
            }
        }

        var treatment = new int[n];
        var time = new double[n];
        var events = new int[n];
        for (var i = 0; i < n; i++)
        {
            treatment[i] = Bernoulli(rng, Expit(lpT[i]));
            var rate = 0.001 * Math.Exp(lpY[i] + (treatment[i] == 1 ? Math.Log(conditionalHr) : 0));
            (time[i], events[i]) = Observe(-Math.Log(rng.NextDouble()) / rate, 30 + (rng.NextDouble() * (1095 - 30)));
        }

        var names = Enumerable.Range(1, p).Select(j => $"c{j}").ToArray();
        var cohort = new Cohort(Enumerable.Range(1, n).Select(i => (long)i).ToArray(), treatment, time, events, [], []);
        return new SparseCohort(cohort, SparseBinaryMatrix.FromColumns(n, columns, names));
    }

    private static (double Time, int Event) Observe(double eventTime, double censorTime) =>
        (Math.Max(1, Math.Ceiling(Math.Min(eventTime, censorTime))), eventTime <= censorTime ? 1 : 0);

    private static int Bernoulli(Random rng, double p) => rng.NextDouble() < p ? 1 : 0;

    private static double Expit(double x) => 1 / (1 + Math.Exp(-x));
}
