using RwePortal.Application.Analyses;

namespace RwePortal.Web.Tests.Features.Analyses;

/// <summary>A hand-built result document: every number in it is written here, so a test can look for it on the page.</summary>
internal static class AnalysisTestData
{
    public static Shown Count(long value) => new(value, value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));

    public static readonly Shown Hidden = new(null, "<11");

    public static AnalysisHeader Header => new(
        "Sacubitril/valsartan vs ACE inhibitors", 3, "9f2c4e1d7a", "synthetic", "research", "Sacubitril/valsartan", "ACE inhibitor",
        "Hospitalisation for heart failure", "intention to treat", "ATE", "IPTW", "dense logistic", new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    public static AnalysisResultDocument Document(
        IReadOnlyList<DiagnosticGate>? gates = null,
        IReadOnlyList<SubgroupEstimate>? subgroups = null,
        IReadOnlyList<BalanceLine>? balance = null) => new(
        AnalysisResultDocument.CurrentFormat,
        Header,
        [
            new AttritionLine("New users with a first prescription", Count(5_432), Count(9_876)),
            new AttritionLine("365 days of continuous enrollment", Count(4_321), Count(8_765)),
            new AttritionLine("No prior outcome", Count(4_100), Count(8_300)),
        ],
        new ArmSummary(Count(4_100), Count(8_300), Count(412), Count(1_290), 6_150.4, 12_480.9, 3_450.2, 7_900.7),
        new PreferenceScoreDistribution([0.25, 0.5, 0.75], [0.5, 1.2, 1.3], [1.4, 1.1, 0.5], 0.712),
        balance ??
        [
            new BalanceLine("Age group 70-74", "demographics", 0.30, 0.20, 0.2301, 0.26, 0.25, 0.0210),
            new BalanceLine("Type 2 diabetes mellitus", "condition 365d", 0.40, 0.31, 0.1877, 0.37, 0.32, 0.1042),
            new BalanceLine("Loop diuretic", "drug 180d", 0.50, 0.49, 0.0150, 0.50, 0.50, 0.0011),
        ],
        new DiagnosticsReport(
            gates ??
            [
                new DiagnosticGate("Max |SMD|", 0.0421, 0.1, true, "max |SMD| after adjustment ≤ 0.1"),
                new DiagnosticGate("Equipoise", 0.614, 0.2, true, "share with preference score 0.3–0.7 ≥ 0.2"),
            ],
            [new RemovedCovariate("Sacubitril exposure 30d", "predicts treatment almost perfectly (|SMD| 4.2)")],
            ["Weights truncated at the 1st and 99th percentiles."]),
        [
            new SurvivalCurve("treatment", "survival", [0, 100, 200], [1, 0.95, 0.9], [1, 0.93, 0.87], [1, 0.97, 0.93]),
            new SurvivalCurve("comparator", "survival", [0, 100, 200], [1, 0.93, 0.86], [1, 0.92, 0.84], [1, 0.94, 0.88]),
        ],
        [
            new RiskTableLine(0, Count(4_100), Count(8_300), 6_300.5, 6_290.5),
            new RiskTableLine(365, Count(2_345), Count(5_678), 3_500.1, 3_400.2),
            new RiskTableLine(730, Hidden, Count(120), 8.5, 80.5),
        ],
        new EffectEstimates(
            new Estimate(0.8123, 0.7011, 0.9412, 0.0061),
            new Estimate(0.5234, 0.4611, 0.5941, 0.0000001),
            new Estimate(0.8345, 0.6712, 1.0375, 0.104),
            [new HorizonEffect(365, 0.061, 0.074, new Estimate(-0.0131, -0.0221, -0.0041, 0.004), new Estimate(0.8243, 0.7112, 0.9554, 0.01))],
            1.7654,
            1.3212),
        [new NegativeControlEstimate(4_096_683, "Ingrown nail", Count(57), new Estimate(1.0412, 0.7811, 1.3879, 0.78))],
        subgroups ??
        [
            new SubgroupEstimate("Women", Count(2_001), Count(4_002), Count(200), Count(600), new Estimate(0.7801, 0.6402, 0.9503, 0.01), 0.0432, true, null),
            new SubgroupEstimate("Carriers of a TTR variant", Hidden, Count(15), Hidden, Hidden, null, 0.3124, false, "too few persons to estimate"),
        ],
        [
            new CovariateAggregate("Type 2 diabetes mellitus", "condition 365d", Count(1_640), Count(2_573), null, null),
            new CovariateAggregate("Amyloidosis", "condition 365d", Hidden, Count(12), null, null),
            new CovariateAggregate("NT-proBNP (latest)", "measurement", null, null, 1_234.5, 1_180.25),
        ]);
}
