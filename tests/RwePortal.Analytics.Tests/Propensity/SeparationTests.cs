using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Tests.Support;

namespace RwePortal.Analytics.Tests.Propensity;

public sealed class SeparationTests
{
    private static Cohort WithExtraCovariate(string name, Func<int, int, double> value)
    {
        var c = RFixture.Load("ate-stabilized").Cohort;
        var extra = Enumerable.Range(0, c.Count).Select(i => value(i, c.Treatment[i])).ToArray();
        return c with { CovariateNames = [.. c.CovariateNames, name], Covariates = [.. c.Covariates, extra] };
    }

    [Fact]
    public void A_covariate_whose_ranges_do_not_overlap_between_arms_is_named_as_separating()
    {
        var cohort = WithExtraCovariate("dose_mg", (i, t) => t == 1 ? 100 + (i % 7) : 10 + (i % 5));
        var outcome = PsAnalysis.Run(cohort, new PsAnalysisOptions());
        Assert.False(outcome.Succeeded);
        Assert.Equal("Propensity.Separation", outcome.Failure!.Code);
        Assert.Equal("dose_mg", outcome.Failure.Covariate);
    }

    [Fact]
    public void A_binary_covariate_present_only_in_the_treated_is_named_as_quasi_complete_separation()
    {
        var cohort = WithExtraCovariate("trial_site", (i, t) => t == 1 && i % 10 == 0 ? 1 : 0);
        var outcome = PsAnalysis.Run(cohort, new PsAnalysisOptions());
        Assert.Equal("Propensity.Separation", outcome.Failure!.Code);
        Assert.Equal("trial_site", outcome.Failure.Covariate);
        Assert.Contains("treated", outcome.Failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Separation_by_a_combination_of_covariates_is_caught_after_the_fit_and_names_a_covariate()
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
        var outcome = PsAnalysis.Run(cohort, new PsAnalysisOptions());
        Assert.Equal("Propensity.Separation", outcome.Failure!.Code);
        Assert.True(outcome.Failure.Covariate is "u" or "v", outcome.Failure.Message);
    }
}
