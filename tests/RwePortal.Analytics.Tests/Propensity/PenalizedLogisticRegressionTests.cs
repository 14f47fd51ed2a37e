using RwePortal.Analytics.Propensity;
using RwePortal.Analytics.Tests.Support;

namespace RwePortal.Analytics.Tests.Propensity;

public sealed class PenalizedLogisticRegressionTests
{
    private static readonly Dictionary<int, double> Truth = new() { [0] = 1.0, [1] = -0.8, [2] = 0.6 };

    private static double[] Gradient(SparseBinaryMatrix x, int[] y, PenalizedFit fit)
    {
        var g = new double[x.Columns];
        for (var j = 0; j < x.Columns; j++)
        {
            foreach (var i in x.Column(j))
            {
                g[j] += fit.Fitted[i] - y[i];
            }
        }

        return g;
    }

    [Fact]
    public void L1_fit_with_vanishing_lambda_equals_the_unpenalised_maximum_likelihood_fit()
    {
        var (x, y) = Synthetic.SparseProblem(3000, 6, 0.2, Truth, -0.3, seed: 11);
        var sparse = PenalizedLogisticRegression.Fit(x, y, 1e-10, new PenalizedOptions { Penalty = Penalty.L1, Tolerance = 1e-14 });
        var dense = LogisticRegression.Fit([.. Enumerable.Range(0, 6).Select(x.DenseColumn)], x.Names, y, epsilon: 1e-14, maxIterations: 50);
        Assert.Equal(dense.Coefficients[0], sparse.Intercept, 5);
        for (var j = 0; j < 6; j++)
        {
            Assert.Equal(dense.Coefficients[j + 1], sparse.Coefficients[j], 5);
        }
    }

    [Fact]
    public void L2_fit_with_vanishing_lambda_equals_the_unpenalised_maximum_likelihood_fit()
    {
        var (x, y) = Synthetic.SparseProblem(3000, 6, 0.2, Truth, -0.3, seed: 12);
        var sparse = PenalizedLogisticRegression.Fit(x, y, 1e-10, new PenalizedOptions { Penalty = Penalty.L2, Tolerance = 1e-14 });
        var dense = LogisticRegression.Fit([.. Enumerable.Range(0, 6).Select(x.DenseColumn)], x.Names, y, epsilon: 1e-14, maxIterations: 50);
        for (var j = 0; j < 6; j++)
        {
            Assert.Equal(dense.Coefficients[j + 1], sparse.Coefficients[j], 5);
        }
    }

    [Fact]
    public void L1_solution_satisfies_the_lasso_optimality_conditions()
    {
        var (x, y) = Synthetic.SparseProblem(2000, 60, 0.05, Truth, -0.2, seed: 13);
        var lambda = 0.3 * PenalizedLogisticRegression.LambdaMax(x, y);
        var fit = PenalizedLogisticRegression.Fit(x, y, lambda, new PenalizedOptions { Penalty = Penalty.L1, Tolerance = 1e-14 });
        var g = Gradient(x, y, fit);
        var n = y.Length;
        Assert.InRange(fit.NonZero, 1, 59);
        for (var j = 0; j < x.Columns; j++)
        {
            if (fit.Coefficients[j] == 0)
            {
                Assert.True(Math.Abs(g[j]) / n <= lambda * (1 + 1e-4), $"x{j}: |g|/n = {Math.Abs(g[j]) / n} > λ = {lambda}");
            }
            else
            {
                Assert.Equal(-lambda * Math.Sign(fit.Coefficients[j]), g[j] / n, 6);
            }
        }

        Assert.Equal(0, fit.Fitted.Select((m, i) => m - y[i]).Sum() / n, 6);
    }

    [Fact]
    public void L2_solution_satisfies_the_ridge_stationarity_condition()
    {
        var (x, y) = Synthetic.SparseProblem(2000, 40, 0.05, Truth, -0.2, seed: 14);
        var lambda = 0.01;
        var fit = PenalizedLogisticRegression.Fit(x, y, lambda, new PenalizedOptions { Penalty = Penalty.L2, Tolerance = 1e-15 });
        var g = Gradient(x, y, fit);
        for (var j = 0; j < x.Columns; j++)
        {
            Assert.Equal(0, (g[j] / y.Length) + (lambda * fit.Coefficients[j]), 6);
        }
    }

    [Fact]
    public void At_lambda_max_every_L1_coefficient_is_zero_and_just_below_one_enters()
    {
        var (x, y) = Synthetic.SparseProblem(2000, 30, 0.05, Truth, -0.2, seed: 15);
        var lambdaMax = PenalizedLogisticRegression.LambdaMax(x, y);
        Assert.Equal(0, PenalizedLogisticRegression.Fit(x, y, lambdaMax * 1.0001, new PenalizedOptions()).NonZero);
        Assert.True(PenalizedLogisticRegression.Fit(x, y, lambdaMax * 0.95, new PenalizedOptions()).NonZero >= 1);
    }

    [Fact]
    public void Cross_validated_L1_keeps_the_true_confounders_and_drops_most_noise()
    {
        var truth = new Dictionary<int, double> { [0] = 1.2, [1] = -1.0, [2] = 0.9 };
        var (x, y) = Synthetic.SparseProblem(5000, 300, 0.05, truth, -0.2, seed: 16);
        var cv = PenalizedLogisticRegression.FitCrossValidated(x, y, new PenalizedOptions { Folds = 5, PathLength = 20 });
        Assert.All(truth.Keys, j => Assert.NotEqual(0, cv.Fit.Coefficients[j]));
        Assert.True(cv.Fit.Coefficients[0] > 0 && cv.Fit.Coefficients[1] < 0 && cv.Fit.Coefficients[2] > 0);
        Assert.True(cv.Fit.NonZero < 60, $"{cv.Fit.NonZero} non-zero coefficients");
        var chosen = cv.Lambdas.ToList().IndexOf(cv.Fit.Lambda);
        Assert.Equal(cv.MeanDeviance.Min(), cv.MeanDeviance[chosen]);
    }

    [Fact]
    public void Above_the_fitting_size_the_lasso_is_chosen_and_fitted_on_a_proportional_subsample_and_scores_everyone()
    {
        var truth = new Dictionary<int, double> { [0] = 1.2, [1] = -1.0, [2] = 0.9 };
        var (x, y) = Synthetic.SparseProblem(6000, 80, 0.05, truth, -0.6, seed: 17);
        var options = new PenalizedOptions { Folds = 5, PathLength = 20, Seed = 99, MaxPersonsForFitting = 2000, Tolerance = 1e-13 };
        var cv = PenalizedLogisticRegression.FitCrossValidated(x, y, options);
        Assert.Equal(2000, cv.FittedOn);

        // The same persons drawn by hand: per arm, shuffled with the seed's generator, treated first.
        var random = new Random(99);
        var treated = y.Count(v => v == 1);
        var takeTreated = (int)Math.Round(2000.0 * treated / y.Length);
        var chosen = new List<int>();
        foreach (var (arm, take) in new[] { (1, takeTreated), (0, 2000 - takeTreated) })
        {
            var members = Enumerable.Range(0, y.Length).Where(i => y[i] == arm).ToArray();
            random.Shuffle(members);
            chosen.AddRange(members.Take(take));
        }

        chosen.Sort();
        var position = chosen.Select((i, k) => (i, k)).ToDictionary(p => p.i, p => p.k);
        var columns = Enumerable.Range(0, x.Columns).Select(j => x.Column(j).ToArray().Where(position.ContainsKey).Select(i => position[i]).ToArray()).ToArray();
        var subX = SparseBinaryMatrix.FromColumns(chosen.Count, columns, x.Names);
        var subY = chosen.Select(i => y[i]).ToArray();
        Assert.Equal(takeTreated, subY.Sum());
        var expected = PenalizedLogisticRegression.FitCrossValidated(subX, subY, options with { MaxPersonsForFitting = null });
        Assert.Equal(expected.Lambdas, cv.Lambdas);
        Assert.Equal(expected.MeanDeviance, cv.MeanDeviance);

        // The final fit: the sample's lasso at the chosen λ carried to the cohort's size (λ·√(2000/6000)), as a fit from scratch finds it.
        Assert.Equal(expected.Fit.Lambda * Math.Sqrt(2000.0 / 6000.0), cv.Fit.Lambda, 12);
        var direct = PenalizedLogisticRegression.Fit(subX, subY, cv.Fit.Lambda, options with { MaxPersonsForFitting = null, Tolerance = 1e-14 });
        Assert.Equal(direct.Intercept, cv.Fit.Intercept, 5);
        for (var j = 0; j < x.Columns; j++)
        {
            Assert.Equal(direct.Coefficients[j], cv.Fit.Coefficients[j], 5);
        }

        Assert.True(cv.Fit.NonZero >= expected.Fit.NonZero);

        // Everyone's score from the subsample's coefficients.
        Assert.Equal(y.Length, cv.Fit.Fitted.Length);
        for (var i = 0; i < y.Length; i++)
        {
            var eta = cv.Fit.Intercept + Enumerable.Range(0, x.Columns).Where(j => x.Column(j).Contains(i)).Sum(j => cv.Fit.Coefficients[j]);
            Assert.Equal(1 / (1 + Math.Exp(-eta)), cv.Fit.Fitted[i], 12);
        }

        // Below the size nothing changes.
        var all = PenalizedLogisticRegression.FitCrossValidated(x, y, options with { MaxPersonsForFitting = 6000 });
        Assert.Equal(6000, all.FittedOn);
        Assert.Equal(PenalizedLogisticRegression.FitCrossValidated(x, y, options with { MaxPersonsForFitting = null }).Fit.Coefficients, all.Fit.Coefficients);
    }

    [Fact]
    public void Cross_validated_L1_leaves_copies_of_a_column_at_zero_with_the_fit_of_the_matrix_without_them()
    {
        var truth = new Dictionary<int, double> { [0] = 1.2, [1] = -1.0, [2] = 0.9 };
        var (x, y) = Synthetic.SparseProblem(3000, 30, 0.08, truth, -0.4, seed: 23);
        var options = new PenalizedOptions { Folds = 5, PathLength = 15, Seed = 7 };

        // Columns 0 and 1 again, after the others (the same rows: a concept and its one-concept group).
        var columns = Enumerable.Range(0, x.Columns).Select(j => x.Column(j).ToArray()).Append(x.Column(0).ToArray()).Append(x.Column(1).ToArray()).ToArray();
        var withCopies = SparseBinaryMatrix.FromColumns(x.Rows, columns, [.. x.Names, "copy of 0", "copy of 1"]);
        Assert.Equal(Enumerable.Range(0, x.Columns), PenalizedLogisticRegression.DistinctColumns(withCopies));

        var expected = PenalizedLogisticRegression.FitCrossValidated(x, y, options);
        var actual = PenalizedLogisticRegression.FitCrossValidated(withCopies, y, options);
        Assert.Equal(expected.MeanDeviance, actual.MeanDeviance);
        Assert.Equal(expected.Fit.Lambda, actual.Fit.Lambda);
        Assert.Equal([.. expected.Fit.Coefficients, 0, 0], actual.Fit.Coefficients);
        Assert.Equal(expected.Fit.Fitted, actual.Fit.Fitted);
    }

    [Fact]
    public void Cross_validation_tolerance_applies_to_the_folds_only_and_the_final_fit_keeps_the_fit_tolerance()
    {
        var truth = new Dictionary<int, double> { [0] = 1.2, [1] = -1.0, [2] = 0.9 };
        var (x, y) = Synthetic.SparseProblem(3000, 40, 0.08, truth, -0.4, seed: 29);
        var options = new PenalizedOptions { Folds = 5, PathLength = 15, Seed = 7, Tolerance = 1e-13 };
        var tight = PenalizedLogisticRegression.FitCrossValidated(x, y, options);
        var loose = PenalizedLogisticRegression.FitCrossValidated(x, y, options with { CrossValidationTolerance = 1e-3 });

        // The folds stopped earlier: other held-out deviances.
        Assert.NotEqual(tight.MeanDeviance, loose.MeanDeviance);

        // The final fit at the λ the loose folds chose is the fit from scratch at that λ to the fit tolerance.
        var direct = PenalizedLogisticRegression.Fit(x, y, loose.Fit.Lambda, options with { Tolerance = 1e-15 });
        Assert.Equal(direct.Intercept, loose.Fit.Intercept, 6);
        for (var j = 0; j < x.Columns; j++)
        {
            Assert.Equal(direct.Coefficients[j], loose.Fit.Coefficients[j], 6);
        }
    }
}
