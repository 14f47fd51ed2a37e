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
}
