using System.Globalization;
using RwePortal.Application.Analyses;

namespace RwePortal.Web.Features.Analyses;

/// <summary>How the analyses pages, the print document and the exports write numbers: invariant culture, fixed decimals.</summary>
public static class AnalysisText
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>A ratio or difference with two decimals ("0.81").</summary>
    public static string Number(double value, int decimals = 2) =>
        double.IsFinite(value) ? value.ToString("F" + decimals.ToString(Invariant), Invariant) : "–";

    /// <summary>An estimate as readers quote it: "0.81 (0.70–0.94)".</summary>
    public static string Interval(Estimate? estimate, int decimals = 2) => estimate is null
        ? "–"
        : $"{Number(estimate.Value, decimals)} ({Number(estimate.Lower, decimals)}–{Number(estimate.Upper, decimals)})";

    /// <summary>A p-value: three decimals, "&lt;0.001" below.</summary>
    public static string P(double? p) => p switch
    {
        null => "–",
        < 0.001 => "<0.001",
        _ => p.Value.ToString("F3", Invariant),
    };

    /// <summary>A share as a percentage with one decimal.</summary>
    public static string Percent(double share) => double.IsFinite(share) ? (100 * share).ToString("F1", Invariant) + " %" : "–";

    /// <summary>Person-years or effective sample sizes: whole numbers with thousands separators.</summary>
    public static string Whole(double value) => double.IsFinite(value) ? value.ToString("N0", Invariant) : "–";

    /// <summary>The display of a protected count that may be absent (continuous covariates have none).</summary>
    public static string Count(Shown? shown) => shown?.Display ?? "–";

    /// <summary>A day count from time zero ("365 d").</summary>
    public static string Days(double days) => days.ToString("0", Invariant) + " d";

    /// <summary>An instant in UTC as the pages show it.</summary>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", Invariant);
}
