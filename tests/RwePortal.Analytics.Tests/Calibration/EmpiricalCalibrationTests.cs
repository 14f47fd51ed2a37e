using System.Text.Json;
using MathNet.Numerics.Distributions;
using RwePortal.Analytics.Calibration;
using RwePortal.Analytics.Tests.Support;

namespace RwePortal.Analytics.Tests.Calibration;

/// <summary>
/// Fixtures/calibration/expected.json was made by Fixtures/make_calibration.R from the negative controls the
/// EmpiricalCalibration package ships (its sccs and cohortMethod data sets) with the package's own formulas.
/// </summary>
public sealed class EmpiricalCalibrationTests
{
    private static readonly JsonElement Expected = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "calibration", "expected.json"))).RootElement;

    public static TheoryData<string> DataSets => ["sccs", "cohort_method"];

    private static (double LogRr, double SeLogRr)[] Controls(string set) =>
        [.. Expected.GetProperty(set).GetProperty("controls").EnumerateArray()
            .Select(c => (c.GetProperty("log_rr").GetDouble(), c.GetProperty("se_log_rr").GetDouble()))];

    [Theory]
    [MemberData(nameof(DataSets))]
    public void Fitted_null_is_the_maximum_likelihood_one_and_agrees_with_the_packages_fitNull(string set)
    {
        var controls = Controls(set);
        var fit = EmpiricalCalibration.FitNull(controls);
        var e = Expected.GetProperty(set);
        Assert.Equal(controls.Length, fit.Controls);
        Close.Assert(e.GetProperty("null").GetProperty("mean").GetDouble(), fit.Mean, $"{set} null mean");
        Close.Assert(e.GetProperty("null").GetProperty("sd").GetDouble(), fit.Sd, $"{set} null sd");

        // The package stops Nelder–Mead at a relative tolerance of 1e-8 in the likelihood: agreement to 1e-3.
        Close.Assert(e.GetProperty("package_null").GetProperty("mean").GetDouble(), fit.Mean, $"{set} fitNull mean", relative: 1e-3, absolute: 1e-4);
        Close.Assert(e.GetProperty("package_null").GetProperty("sd").GetDouble(), fit.Sd, $"{set} fitNull sd", relative: 1e-3, absolute: 1e-4);

        var best = EmpiricalCalibration.LogLikelihood(fit, controls);
        foreach (var (dm, ds) in new[] { (1e-3, 0.0), (-1e-3, 0.0), (0.0, 1e-3), (0.0, -1e-3) })
        {
            Assert.True(EmpiricalCalibration.LogLikelihood(fit with { Mean = fit.Mean + dm, Sd = fit.Sd + ds }, controls) < best);
        }
    }

    [Theory]
    [MemberData(nameof(DataSets))]
    public void Calibrated_p_interval_and_ease_match_the_package_for_every_estimate(string set)
    {
        var fit = EmpiricalCalibration.FitNull(Controls(set));
        var e = Expected.GetProperty(set);
        Close.Assert(e.GetProperty("ease").GetDouble(), EmpiricalCalibration.ExpectedAbsoluteSystematicError(fit), $"{set} EASE");
        foreach (var row in e.GetProperty("estimates").EnumerateArray())
        {
            var logRr = row.GetProperty("log_rr_in").GetDouble();
            var se = row.GetProperty("se_log_rr_in").GetDouble();
            Close.Assert(row.GetProperty("p").GetDouble(), EmpiricalCalibration.CalibrateP(fit, logRr, se), $"{set} p of {logRr}");
            var ci = EmpiricalCalibration.CalibrateConfidenceInterval(fit, logRr, se);
            Close.Assert(row.GetProperty("log_rr").GetDouble(), ci.LogRr, $"{set} calibrated log RR of {logRr}", absolute: 1e-8);
            Close.Assert(row.GetProperty("lower").GetDouble(), ci.Lower, $"{set} calibrated lower of {logRr}", absolute: 1e-8);
            Close.Assert(row.GetProperty("upper").GetDouble(), ci.Upper, $"{set} calibrated upper of {logRr}", absolute: 1e-8);
            Close.Assert(row.GetProperty("se_log_rr").GetDouble(), ci.SeLogRr, $"{set} calibrated se of {logRr}", absolute: 1e-8);
        }
    }

    [Fact]
    public void Controls_with_a_known_bias_recover_it_and_calibration_removes_it()
    {
        var random = new Random(20261130);
        var controls = new List<(double, double)>();
        for (var i = 0; i < 400; i++)
        {
            var se = 0.05 + (0.3 * random.NextDouble());
            var systematic = Normal.Sample(random, 0.3, 0.15);
            controls.Add((Normal.Sample(random, systematic, se), se));
        }

        var fit = EmpiricalCalibration.FitNull(controls);
        Assert.InRange(fit.Mean, 0.25, 0.35);
        Assert.InRange(fit.Sd, 0.10, 0.20);

        // An estimate that is exactly the bias is calibrated to no effect, with a wider interval.
        var ci = EmpiricalCalibration.CalibrateConfidenceInterval(fit, fit.Mean, 0.1);
        Assert.Equal(0.0, ci.LogRr, 10);
        Close.Assert(Math.Sqrt((fit.Sd * fit.Sd) + 0.01), ci.SeLogRr, "calibrated se");
        Assert.True(EmpiricalCalibration.CalibrateP(fit, fit.Mean, 0.1) > 0.99);
    }

    [Fact]
    public void Controls_without_systematic_error_leave_estimates_nearly_unchanged()
    {
        var random = new Random(7);
        var controls = new List<(double, double)>();
        for (var i = 0; i < 400; i++)
        {
            var se = 0.05 + (0.3 * random.NextDouble());
            controls.Add((Normal.Sample(random, 0, se), se));
        }

        var fit = EmpiricalCalibration.FitNull(controls);
        Assert.InRange(Math.Abs(fit.Mean), 0, 0.02);
        Assert.InRange(fit.Sd, 0, 0.03);
        var ci = EmpiricalCalibration.CalibrateConfidenceInterval(fit, Math.Log(0.7), 0.1);
        Assert.InRange(ci.LogRr - Math.Log(0.7), -0.02, 0.02);
        Assert.InRange(ci.SeLogRr, 0.1, 0.105);
    }

    [Fact]
    public void Ease_of_a_normal_null_equals_its_expected_absolute_value_by_numeric_integration()
    {
        var nul = new NullDistribution(0.1, 0.2, 10);
        const int steps = 200_000;
        double lo = -3, hi = 3, h = (hi - lo) / steps, sum = 0;
        for (var k = 0; k <= steps; k++)
        {
            var x = lo + (k * h);
            var f = Math.Abs(x) * Normal.PDF(0.1, 0.2, x);
            sum += (k == 0 || k == steps ? 1 : k % 2 == 1 ? 4 : 2) * f;
        }

        Close.Assert(sum * h / 3, EmpiricalCalibration.ExpectedAbsoluteSystematicError(nul), "EASE N(0.1, 0.2)", relative: 1e-8);
        Assert.Equal(0.25, EmpiricalCalibration.ExpectedAbsoluteSystematicError(new NullDistribution(-0.25, 0, 3)), 12);
    }

    [Fact]
    public void Unusable_controls_are_dropped_as_fitNull_does_and_none_left_gives_no_null()
    {
        var controls = new[] { (0.1, 0.2), (double.NaN, 0.1), (0.2, double.PositiveInfinity), (Math.Log(200), 0.1), (-0.1, 0.3) };
        Assert.Equal(2, EmpiricalCalibration.FitNull(controls).Controls);
        var none = EmpiricalCalibration.FitNull([(double.NaN, 0.1)]);
        Assert.False(none.IsValid);
        Assert.True(double.IsNaN(EmpiricalCalibration.CalibrateP(none, 0.1, 0.1)));
    }
}
