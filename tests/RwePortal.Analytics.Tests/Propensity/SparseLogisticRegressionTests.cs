using RwePortal.Analytics.Propensity;
using RwePortal.Analytics.Tests.Support;

namespace RwePortal.Analytics.Tests.Propensity;

/// <summary>
/// The sparse maximum-likelihood fit against R's glm (the fixtures' coefficients and every person's score) and against
/// the dense fit on a mixed problem (sparse binary indicators and dense continuous columns with large means, where the
/// algebraic centring could lose digits); the sparse separation checks against the dense ones on crafted columns.
/// </summary>
public sealed class SparseLogisticRegressionTests
{
    private static SparseColumn Sparse(double[] dense)
    {
        var rows = Enumerable.Range(0, dense.Length).Where(i => dense[i] != 0).ToArray();
        return new SparseColumn(rows, [.. rows.Select(i => dense[i])]);
    }

    [Theory]
    [InlineData("ate-stabilized")]
    [InlineData("att")]
    [InlineData("overlap")]
    [InlineData("ate-truncated")]
    public void Sparse_fit_reproduces_glm_on_the_R_fixtures(string name)
    {
        var fixture = RFixture.Load(name);
        var cohort = fixture.Cohort;
        var fit = LogisticRegression.FitSparse([.. cohort.Covariates.Select(Sparse)], cohort.CovariateNames, cohort.Treatment);
        var expected = fixture.Expected.GetProperty("propensity").GetProperty("coefficients").EnumerateObject().ToList();
        Assert.True(fit.Converged);
        Assert.Equal(expected.Select(e => e.Name), fit.Names);
        for (var j = 0; j < expected.Count; j++)
        {
            Close.Assert(expected[j].Value.GetDouble(), fit.Coefficients[j], $"{name} coefficient {expected[j].Name}");
        }

        for (var i = 0; i < cohort.Count; i++)
        {
            Close.Assert(fixture.RPs[i], fit.Fitted[i], $"{name} ps of person {cohort.PersonIds[i]}");
        }
    }

    [Fact]
    public void Sparse_fit_equals_the_dense_fit_with_binary_and_large_continuous_columns()
    {
        const int n = 6000;
        var (x, y) = Synthetic.SparseProblem(n, 40, 0.08, new Dictionary<int, double> { [0] = 0.9, [1] = -0.7, [5] = 0.4 }, -0.2, seed: 31);
        var random = new Random(32);
        var cost = new double[n];
        var age = new double[n];
        for (var i = 0; i < n; i++)
        {
            // A cost-like column (mean ≈ 5,000, stored for everyone) and an age-like one stored only where non-zero.
            cost[i] = 5000 + (1500 * random.NextDouble()) + (y[i] * 200);
            age[i] = random.NextDouble() < 0.7 ? 60 + (20 * random.NextDouble()) + (y[i] * 2) : 0;
        }

        var dense = Enumerable.Range(0, x.Columns).Select(x.DenseColumn).Append(cost).Append(age).ToList();
        var names = x.Names.Append("cost").Append("age").ToList();
        var sparse = Enumerable.Range(0, x.Columns).Select(j => new SparseColumn(x.Column(j).ToArray(), [.. Enumerable.Repeat(1.0, x.Column(j).Length)]))
            .Append(new SparseColumn([.. Enumerable.Range(0, n)], cost))
            .Append(Sparse(age))
            .ToList();

        var expected = LogisticRegression.Fit(dense, names, y);
        var actual = LogisticRegression.FitSparse(sparse, names, y);
        Assert.Equal(expected.Iterations, actual.Iterations);
        Assert.Equal(expected.Converged, actual.Converged);
        Close.Assert(expected.Deviance, actual.Deviance, "deviance", relative: 1e-10);
        for (var j = 0; j < expected.Coefficients.Length; j++)
        {
            Close.Assert(expected.Coefficients[j], actual.Coefficients[j], $"coefficient {expected.Names[j]}", relative: 1e-8, absolute: 1e-12);
        }

        for (var i = 0; i < n; i++)
        {
            Close.Assert(expected.Fitted[i], actual.Fitted[i], $"ps {i}", relative: 1e-10, absolute: 1e-14);
        }
    }

    [Fact]
    public void A_constant_sparse_column_is_refused_as_the_dense_one_is()
    {
        int[] y = [0, 1, 0, 1];
        Assert.Throws<ArgumentException>(() => LogisticRegression.FitSparse([new SparseColumn([], [])], ["never"], y));
        Assert.Throws<ArgumentException>(() => LogisticRegression.FitSparse([new SparseColumn([0, 1, 2, 3], [2, 2, 2, 2])], ["always two"], y));
    }

    public static TheoryData<double[]> SeparationColumns => new()
    {
        new double[] { 1, 1, 1, 0, 0, 0, 0, 0 },       // only in the treated arm: quasi-complete
        new double[] { 0, 0, 0, 0, 0, 1, 1, 0 },       // only among the untreated
        new double[] { 1, 1, 1, 1, 1, 1, 0, 1 },       // 0 only outside the treated arm
        new double[] { 5, 6, 7, 8, 1, 2, 3, 0 },       // continuous: treated values all above
        new double[] { 0, 0, 0, 0, -1, -2, -3, -4 },   // treated values (the implicit zeros) above the rest
        new double[] { 1, 0, 1, 0, 1, 0, 1, 0 },       // no separation
        new double[] { 2.5, 0, 1, 3, 0, 2, 4, 0.5 },   // no separation, continuous
        new double[] { 0, 0, 0, 0, 0, 0, 0, 0 },       // constant zero: no separation reported
    };

    [Theory]
    [MemberData(nameof(SeparationColumns))]
    public void Sparse_separation_check_before_the_fit_agrees_with_the_dense_one(double[] column)
    {
        int[] t = [1, 1, 1, 1, 0, 0, 0, 0];
        var dense = SeparationCheck.BeforeFit([column], ["c"], t);
        var sparse = SeparationCheck.BeforeFit([Sparse(column)], ["c"], t);
        Assert.Equal(dense, sparse);
    }

    [Fact]
    public void Sparse_separation_check_after_the_fit_names_the_same_covariate_as_the_dense_one()
    {
        const int n = 400;
        var random = new Random(5);
        var y = new int[n];
        var a = new double[n];
        var b = new double[n];
        for (var i = 0; i < n; i++)
        {
            a[i] = random.NextDouble() < 0.3 ? 1 : 0;
            b[i] = random.NextDouble() < 0.5 ? 1 : 0;

            // a + b ≥ 1 exactly predicts treatment: separation by the pair, not by either alone.
            y[i] = a[i] + b[i] >= 1 ? 1 : 0;
        }

        var dense = LogisticRegression.Fit([a, b], ["a", "b"], y);
        var expected = SeparationCheck.AfterFit(dense, [a, b]);
        var actual = SeparationCheck.AfterFit(LogisticRegression.FitSparse([Sparse(a), Sparse(b)], ["a", "b"], y), [Sparse(a), Sparse(b)]);
        Assert.NotNull(expected);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Sparse_fit_leaves_out_columns_that_are_linear_combinations_of_earlier_ones_and_fits_the_rest_as_without_them()
    {
        const int n = 3000;
        var (x, y) = Synthetic.SparseProblem(n, 6, 0.2, new Dictionary<int, double> { [0] = 0.8, [1] = -0.6 }, -0.3, seed: 41);
        var columns = Enumerable.Range(0, x.Columns).Select(j => Sparse(x.DenseColumn(j))).ToList();
        var names = x.Names.ToList();

        // A copy of column 0 (a concept and its one-concept group) and 1 − column 2 (with the intercept, a combination).
        var copy = Sparse(x.DenseColumn(0));
        var complement = Sparse([.. x.DenseColumn(2).Select(v => 1 - v)]);
        var withAliased = columns.Take(3).Append(copy).Concat(columns.Skip(3)).Append(complement).ToList();
        var aliasedNames = names.Take(3).Append("copy of 0").Concat(names.Skip(3)).Append("1 - column 2").ToList();

        var expected = LogisticRegression.FitSparse(columns, names, y);
        var actual = LogisticRegression.FitSparse(withAliased, aliasedNames, y);
        Assert.True(expected.Converged);
        Assert.True(actual.Converged);
        Assert.Equal([3, 7], actual.Aliased);
        Assert.Empty(expected.Aliased);
        Assert.Equal(0, actual.Coefficients[1 + 3]);
        Assert.Equal(0, actual.Coefficients[1 + 7]);
        Assert.Equal(expected.Iterations, actual.Iterations);
        Assert.Equal(expected.Deviance, actual.Deviance, 9);
        for (var i = 0; i < n; i++)
        {
            Assert.Equal(expected.Fitted[i], actual.Fitted[i], 12);
        }
    }
}
