using System.Globalization;
using System.Text.Json;
using RwePortal.Analytics.Numerics;
using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Tests.Support;
using RwePortal.Analytics.Weighting;

namespace RwePortal.Analytics.Tests.Weighting;

/// <summary>
/// Fixtures/ipcw was made by Fixtures/make_ipcw.R (seed 21): 400 persons, 2,067 person-periods in shuffled order,
/// censoring driven by age, sex, a time-varying biomarker and hospitalisation; R's glm for both models, the
/// cumulative products with ave(..., FUN = cumprod) and TrialEmulation's type-1 percentile truncation.
/// </summary>
public sealed class CensoringWeightsTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "ipcw");
    private static readonly JsonElement Expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "expected.json"))).RootElement;

    private static List<PersonPeriod> Rows()
    {
        double Cell(string[] c, int j) => double.Parse(c[j], CultureInfo.InvariantCulture);
        return [.. File.ReadAllLines(Path.Combine(Folder, "rows.csv")).Skip(1).Select(l => l.Split(',')).Select(c =>
            new PersonPeriod((long)Cell(c, 0), (int)Cell(c, 1), Cell(c, 2) == 1, [Cell(c, 3), Cell(c, 4)], [Cell(c, 5), Cell(c, 6)]))];
    }

    private static CensoringWeightsResult Fit(List<PersonPeriod> rows) => CensoringWeights.Fit(
        rows, ["age", "sex"], ["biomarker", "hospital"], new CensoringWeightOptions { Truncation = new Truncation(0.01, 0.99) });

    [Fact]
    public void Numerator_and_denominator_models_match_glm()
    {
        var result = Fit(Rows());
        foreach (var (model, key) in new[] { (result.Numerator!, "numerator"), (result.Denominator!, "denominator") })
        {
            var expected = Expected.GetProperty(key).EnumerateObject().ToList();
            Assert.Equal(expected.Select(e => e.Name), model.Names);
            Assert.True(model.Converged);
            for (var j = 0; j < expected.Count; j++)
            {
                Close.Assert(expected[j].Value.GetDouble(), model.Coefficients[j], $"{key} {expected[j].Name}");
            }
        }
    }

    [Fact]
    public void Every_rows_probabilities_cumulative_weight_and_truncated_weight_match_R()
    {
        var rows = Rows();
        var result = Fit(rows);
        var expected = Expected.GetProperty("per_row").EnumerateArray().ToList();
        Assert.Equal(expected.Count, rows.Count);
        Close.Assert(Expected.GetProperty("truncation").GetProperty("low").GetDouble(), result.TruncatedBelow, "1st percentile");
        Close.Assert(Expected.GetProperty("truncation").GetProperty("high").GetDouble(), result.TruncatedAbove, "99th percentile");
        for (var i = 0; i < rows.Count; i++)
        {
            var e = expected[i];
            Assert.Equal(e.GetProperty("id").GetInt64(), rows[i].Cluster);
            Assert.Equal(e.GetProperty("period").GetInt32(), rows[i].Period);
            var what = $"person {rows[i].Cluster} period {rows[i].Period}";
            Close.Assert(e.GetProperty("p_n").GetDouble(), result.ProbabilityNumerator[i], $"{what} p_n");
            Close.Assert(e.GetProperty("p_d").GetDouble(), result.ProbabilityDenominator[i], $"{what} p_d");
            Close.Assert(e.GetProperty("weight").GetDouble(), result.UntruncatedWeights[i], $"{what} weight");
            Close.Assert(e.GetProperty("weight_truncated").GetDouble(), result.Weights[i], $"{what} truncated weight");
        }
    }

    [Fact]
    public void Without_truncation_the_weights_are_the_cumulative_products_and_do_not_depend_on_row_order()
    {
        var rows = Rows();
        var plain = CensoringWeights.Fit(rows, ["age", "sex"], ["biomarker", "hospital"]);
        Assert.Equal(plain.UntruncatedWeights, plain.Weights);
        var reversed = Enumerable.Reverse(rows).ToList();
        var again = CensoringWeights.Fit(reversed, ["age", "sex"], ["biomarker", "hospital"]);
        for (var i = 0; i < rows.Count; i++)
        {
            Close.Assert(plain.Weights[i], again.Weights[rows.Count - 1 - i], $"row {i}");
        }

        // A person's first period carries only its own ratio.
        var first = Enumerable.Range(0, rows.Count).Where(i => rows[i].Period == 0).ToArray();
        Assert.NotEmpty(first);
        Assert.All(first, i => Assert.Equal(plain.Ratio[i], plain.Weights[i]));
    }

    [Fact]
    public void Trial_weights_are_R_cumulative_weights_relative_to_the_trial_start_as_TrialEmulation_expands_them()
    {
        var rows = Rows();
        var result = Fit(rows);
        var expected = Expected.GetProperty("per_row").EnumerateArray()
            .ToDictionary(e => (e.GetProperty("id").GetInt64(), e.GetProperty("period").GetInt32()), e => e.GetProperty("weight").GetDouble());
        var checkedPairs = 0;
        foreach (var ((id, period), weight) in expected)
        {
            for (var start = 0; start <= period; start++)
            {
                Close.Assert(weight / expected[(id, start)], result.TrialWeight(id, start, period), $"person {id} trial {start} period {period}");
                checkedPairs++;
            }
        }

        Assert.True(checkedPairs > rows.Count);
        Assert.Equal(1.0, result.TrialWeight(rows[0].Cluster, rows[0].Period, rows[0].Period));
        Assert.Throws<ArgumentOutOfRangeException>(() => result.TrialWeight(rows[0].Cluster, 2, 1));
        Assert.Throws<ArgumentException>(() => result.TrialWeight(-1, 0, 0));
    }

    [Fact]
    public void Nobody_censored_gives_weight_one_everywhere_and_no_models()
    {
        var rows = Rows().Select(r => r with { CensoredAtEnd = false }).ToList();
        var result = CensoringWeights.Fit(rows, ["age", "sex"], ["biomarker", "hospital"]);
        Assert.Null(result.Numerator);
        Assert.All(result.Weights, w => Assert.Equal(1.0, w));
    }

    [Fact]
    public void A_period_twice_in_one_cluster_or_a_missing_covariate_is_refused()
    {
        var rows = Rows();
        Assert.Throws<ArgumentException>(() => CensoringWeights.Fit([.. rows, rows[0]], ["age", "sex"], ["biomarker", "hospital"]));
        Assert.Throws<ArgumentException>(() => CensoringWeights.Fit([.. rows.Skip(1), rows[0] with { Baseline = [double.NaN, 0] }], ["age", "sex"], ["biomarker", "hospital"]));
        Assert.Throws<ArgumentException>(() => CensoringWeights.Fit(rows, ["age"], ["biomarker", "hospital"]));
    }

    /// <summary>R: quantile(c(3.2, 1, 7, 2.5, 9, 4, 4, 6.1, 0.5, 8), p, type = 1).</summary>
    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(0.01, 0.5)]
    [InlineData(0.1, 0.5)]
    [InlineData(0.25, 2.5)]
    [InlineData(0.3, 2.5)]
    [InlineData(0.5, 4.0)]
    [InlineData(0.7, 6.1)]
    [InlineData(0.99, 9.0)]
    [InlineData(1.0, 9.0)]
    public void Type1_quantile_matches_R(double p, double expected)
    {
        double[] x = [3.2, 1, 7, 2.5, 9, 4, 4, 6.1, 0.5, 8];
        Array.Sort(x);
        Assert.Equal(expected, Quantiles.Type1(x, p));
    }
}
