using MathNet.Numerics.Statistics;
using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Propensity;
using RwePortal.Analytics.Tests.Support;

namespace RwePortal.Analytics.Tests.Propensity;

public sealed class SeparationTests
{
    private static Cohort WithExtraCovariate(string name, Func<int, int, double> value, string fixture = "ate-stabilized")
    {
        var c = RFixture.Load(fixture).Cohort;
        var extra = Enumerable.Range(0, c.Count).Select(i => value(i, c.Treatment[i])).ToArray();
        return c with { CovariateNames = [.. c.CovariateNames, name], Covariates = [.. c.Covariates, extra] };
    }

    /// <summary>Once the separating covariate is left out, the model is R's glm on the fixture's own covariates.</summary>
    private static void AssertModelIsRsWithoutTheExtraColumn(PsAnalysisResult result, string fixture = "ate-stabilized")
    {
        var f = RFixture.Load(fixture);
        var expected = f.Expected.GetProperty("propensity").GetProperty("coefficients").EnumerateObject().ToList();
        Assert.Equal(expected.Select(e => e.Name), result.Propensity.Names);
        for (var j = 0; j < expected.Count; j++)
        {
            Close.Assert(expected[j].Value.GetDouble(), result.Propensity.Coefficients[j], $"coefficient {expected[j].Name}");
        }

        for (var i = 0; i < f.Cohort.Count; i++)
        {
            Close.Assert(f.RPs[i], result.PropensityScores[i], $"ps of person {f.Cohort.PersonIds[i]}");
        }
    }

    [Fact]
    public void A_covariate_whose_ranges_do_not_overlap_between_arms_is_removed_named_and_the_run_goes_on()
    {
        var cohort = WithExtraCovariate("dose_mg", (i, t) => t == 1 ? 100 + (i % 7) : 10 + (i % 5));
        var outcome = PsAnalysis.Run(cohort, new PsAnalysisOptions());
        Assert.True(outcome.Succeeded, outcome.Failure?.Message);
        var removed = Assert.Single(outcome.Result!.RemovedCovariates);
        Assert.Equal("dose_mg", removed.Covariate);
        Assert.Contains("separates", removed.Reason, StringComparison.Ordinal);
        AssertModelIsRsWithoutTheExtraColumn(outcome.Result);

        // Its imbalance is still shown, and fails the balance gate.
        Assert.Contains(outcome.Result.Balance, b => b.Covariate == "dose_mg");
        Assert.Contains("dose_mg", outcome.Result.Diagnostics.ImbalancedCovariates);
    }

    [Fact]
    public void A_binary_covariate_present_only_in_the_treated_is_removed_as_quasi_complete_separation()
    {
        var cohort = WithExtraCovariate("trial_site", (i, t) => t == 1 && i % 10 == 0 ? 1 : 0);
        var outcome = PsAnalysis.Run(cohort, new PsAnalysisOptions());
        Assert.True(outcome.Succeeded, outcome.Failure?.Message);
        var removed = Assert.Single(outcome.Result!.RemovedCovariates);
        Assert.Equal("trial_site", removed.Covariate);
        Assert.Contains("treated", removed.Reason, StringComparison.Ordinal);
        AssertModelIsRsWithoutTheExtraColumn(outcome.Result);
    }

    [Fact]
    public void With_removal_switched_off_separation_still_stops_the_analysis_and_names_the_covariate()
    {
        var cohort = WithExtraCovariate("dose_mg", (i, t) => t == 1 ? 100 + (i % 7) : 10 + (i % 5));
        var outcome = PsAnalysis.Run(cohort, new PsAnalysisOptions { RemoveSeparatingCovariates = false });
        Assert.False(outcome.Succeeded);
        Assert.Equal("Propensity.Separation", outcome.Failure!.Code);
        Assert.Equal("dose_mg", outcome.Failure.Covariate);
    }

    [Fact]
    public void Separation_by_a_combination_of_covariates_removes_one_of_them_after_the_fit_and_keeps_the_other()
    {
        // u - v separates the arms although u and v each overlap between arms.
        var c = RFixture.Load("att").Cohort;
        var random = new Random(5);
        var u = new double[c.Count];
        var v = new double[c.Count];
        for (var i = 0; i < c.Count; i++)
        {
            v[i] = random.NextDouble() * 10;
            u[i] = v[i] + (c.Treatment[i] == 1 ? 1 + random.NextDouble() : -1 - random.NextDouble());
        }

        var cohort = c with { CovariateNames = ["u", "v"], Covariates = [u, v] };
        Assert.Equal("Propensity.Separation", PsAnalysis.Run(cohort, new PsAnalysisOptions { RemoveSeparatingCovariates = false }).Failure!.Code);

        var outcome = PsAnalysis.Run(cohort, new PsAnalysisOptions());
        Assert.True(outcome.Succeeded, outcome.Failure?.Message);
        var removed = Assert.Single(outcome.Result!.RemovedCovariates);
        Assert.True(removed.Covariate is "u" or "v", removed.Reason);
        Assert.Contains("Perfect separation", removed.Reason, StringComparison.Ordinal);
        var keptName = removed.Covariate == "u" ? "v" : "u";
        Assert.Equal(["(Intercept)", keptName], outcome.Result.Propensity.Names);
    }

    [Fact]
    public void When_every_covariate_separates_the_run_fails_and_names_them()
    {
        var c = RFixture.Load("ate-stabilized").Cohort;
        var a = c.Treatment.Select((t, i) => t == 1 ? 5.0 + (i % 3) : 1.0).ToArray();
        var b = c.Treatment.Select(t => (double)t).ToArray();
        var outcome = PsAnalysis.Run(c with { CovariateNames = ["a", "b"], Covariates = [a, b] }, new PsAnalysisOptions());
        Assert.False(outcome.Succeeded);
        Assert.Equal("Propensity.Separation", outcome.Failure!.Code);
        Assert.Contains("'a'", outcome.Failure.Message, StringComparison.Ordinal);
        Assert.Contains("'b'", outcome.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sparse_path_removes_columns_that_almost_predict_treatment_and_fits_the_rest_as_if_they_were_never_there()
    {
        var c = RFixture.Load("ate-stabilized").Cohort;
        var random = new Random(11);
        var columns = new List<int[]>();
        var names = new List<string>();
        for (var j = 0; j < 12; j++)
        {
            columns.Add([.. Enumerable.Range(0, c.Count).Where(i => random.NextDouble() < 0.05 + (0.1 * c.Treatment[i] * (j % 3)))]);
            names.Add($"condition_{j}");
        }

        columns.Add([.. Enumerable.Range(0, c.Count).Where(i => c.Treatment[i] == 1)]);
        names.Add("same_as_treatment");
        columns.Add([.. Enumerable.Range(0, c.Count).Where(i => random.NextDouble() < (c.Treatment[i] == 1 ? 0.9 : 0.04))]);
        names.Add("prescribing_site");
        columns.Add([.. Enumerable.Range(0, c.Count).Where(i => c.Treatment[i] == 1 && i % 400 == 0)]);
        names.Add("rare_in_treated_only");
        var matrix = SparseBinaryMatrix.FromColumns(c.Count, columns, names);

        // The independent truth: Pearson's r of each dense column with treatment.
        var t = c.Treatment.Select(x => (double)x).ToArray();
        var expectedRemoved = Enumerable.Range(0, matrix.Columns)
            .Where(j => Math.Abs(Correlation.Pearson(matrix.DenseColumn(j), t)) > 0.5).Select(j => names[j]).ToArray();
        Assert.Equal(["same_as_treatment", "prescribing_site"], expectedRemoved);

        var penalty = new PenalizedOptions { Folds = 3, PathLength = 8, MaxDegreeOfParallelism = 1 };
        var outcome = PsAnalysis.RunPenalized(c, matrix, new PsAnalysisOptions(), penalty);
        Assert.True(outcome.Succeeded, outcome.Failure?.Message);
        Assert.Equal(expectedRemoved, outcome.Result!.RemovedCovariates.Select(r => r.Covariate));
        Assert.DoesNotContain("same_as_treatment", outcome.Result.Propensity.Names);
        Assert.Contains(outcome.Result.Balance, b => b.Covariate == "prescribing_site");

        var keptIndices = Enumerable.Range(0, matrix.Columns).Where(j => !expectedRemoved.Contains(names[j])).ToArray();
        var kept = SparseBinaryMatrix.FromColumns(c.Count, [.. keptIndices.Select(j => columns[j])], [.. keptIndices.Select(j => names[j])]);
        var direct = PsAnalysis.RunPenalized(c, kept, new PsAnalysisOptions(), penalty).Result!;
        Assert.Empty(direct.RemovedCovariates);
        Assert.Equal(direct.Propensity.Names, outcome.Result.Propensity.Names);
        Assert.Equal(direct.Propensity.Coefficients, outcome.Result.Propensity.Coefficients);

        var strict = PsAnalysis.RunPenalized(c, matrix, new PsAnalysisOptions { RemoveSeparatingCovariates = false }, penalty);
        Assert.Equal("Propensity.Separation", strict.Failure!.Code);
        Assert.Equal("same_as_treatment", strict.Failure.Covariate);
    }
}
