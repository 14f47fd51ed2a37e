using System.Globalization;
using System.Text;
using RwePortal.Application.Analyses;

namespace RwePortal.Web.Features.Analyses;

/// <summary>
/// The printed report's charts as inline SVG (the PDF is printed without a network or scripts, so Plotly cannot draw it):
/// the curves with their bands, the Love plot and the forest plot, drawn from the same document as the page.
/// </summary>
public static class PrintCharts
{
    private const int Width = 640;
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static string F(double value) => value.ToString("0.#", Invariant);

    private static string Esc(string text) => System.Net.WebUtility.HtmlEncode(text);

    /// <summary>The curves of both arms as step lines over their bands, time on x, estimate on y (0–1).</summary>
    public static string Curves(IReadOnlyList<SurvivalCurve> curves, string treatmentLabel, string comparatorLabel)
    {
        const int height = 260, left = 50, right = 10, top = 10, bottom = 35;
        var maxTime = Math.Max(1, curves.SelectMany(c => c.Time).DefaultIfEmpty(1).Max());
        var minY = Math.Min(curves.SelectMany(c => c.Lower).DefaultIfEmpty(0).Min(), curves.SelectMany(c => c.Estimate).DefaultIfEmpty(0).Min());
        var floor = Math.Max(0, Math.Floor(minY * 10) / 10);
        double X(double t) => left + (Width - left - right) * t / maxTime;
        double Y(double v) => top + (height - top - bottom) * (1 - (v - floor) / Math.Max(1e-9, 1 - floor));
        var svg = new StringBuilder();
        svg.Append(Invariant, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" data-testid="print-km-svg" style="font:10px sans-serif">""");
        Axes(svg, left, top, Width - right, height - bottom);
        for (var tick = 0; tick <= 4; tick++)
        {
            var v = floor + (1 - floor) * tick / 4;
            svg.Append(Invariant, $"""<text x="{left - 4}" y="{F(Y(v) + 3)}" text-anchor="end">{v:0.00}</text>""");
            var t = maxTime * tick / 4;
            svg.Append(Invariant, $"""<text x="{F(X(t))}" y="{height - bottom + 14}" text-anchor="middle">{t:0}</text>""");
        }

        svg.Append(Invariant, $"""<text x="{(Width + left) / 2}" y="{height - 4}" text-anchor="middle">days from time zero</text>""");
        foreach (var curve in curves)
        {
            var colour = AnalysisCharts.IsComparator(curve.Arm, comparatorLabel) ? AnalysisCharts.ComparatorColour : AnalysisCharts.TreatmentColour;
            var band = new StringBuilder();
            band.Append(Step(curve.Time, curve.Upper, X, Y));
            var lower = Step(curve.Time, curve.Lower, X, Y).Split(' ', StringSplitOptions.RemoveEmptyEntries).Reverse();
            band.Append(' ').Append(string.Join(' ', lower));
            svg.Append(Invariant, $"""<polygon points="{band}" fill="{colour}" fill-opacity="0.18" stroke="none" />""");
            svg.Append(Invariant, $"""<polyline points="{Step(curve.Time, curve.Estimate, X, Y)}" fill="none" stroke="{colour}" stroke-width="1.6" />""");
        }

        var legendY = top + 12;
        foreach (var curve in curves)
        {
            var colour = AnalysisCharts.IsComparator(curve.Arm, comparatorLabel) ? AnalysisCharts.ComparatorColour : AnalysisCharts.TreatmentColour;
            svg.Append(Invariant, $"""<rect x="{Width - 200}" y="{legendY - 8}" width="10" height="10" fill="{colour}" /><text x="{Width - 185}" y="{legendY}">{Esc(AnalysisCharts.ArmLabel(curve.Arm, treatmentLabel, comparatorLabel))}</text>""");
            legendY += 14;
        }

        return svg.Append("</svg>").ToString();
    }

    /// <summary>|SMD| before (hollow) and after (filled) per covariate, the largest before first, with the 0.1 line.</summary>
    public static string Love(IReadOnlyList<BalanceLine> lines, double threshold = 0.1, int maxRows = 30)
    {
        var drawn = lines.OrderByDescending(l => Math.Abs(l.SmdBefore)).Take(maxRows).ToList();
        const int left = 230, right = 10, top = 10, bottom = 30, row = 14;
        var height = top + bottom + row * Math.Max(1, drawn.Count);
        var max = Math.Max(threshold * 2, drawn.SelectMany(l => new[] { Math.Abs(l.SmdBefore), Math.Abs(l.SmdAfter) }).DefaultIfEmpty(0).Max());
        double X(double v) => left + (Width - left - right) * v / max;
        var svg = new StringBuilder();
        svg.Append(Invariant, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" data-testid="print-love-svg" style="font:9px sans-serif">""");
        Axes(svg, left, top, Width - right, height - bottom);
        svg.Append(Invariant, $"""<line x1="{F(X(threshold))}" y1="{top}" x2="{F(X(threshold))}" y2="{height - bottom}" stroke="#888" stroke-dasharray="4 3" />""");
        svg.Append(Invariant, $"""<text x="{F(X(threshold))}" y="{height - bottom + 12}" text-anchor="middle">{threshold:0.0#}</text><text x="{Width - right}" y="{height - 4}" text-anchor="end">|SMD| (○ before, ● after)</text>""");
        for (var i = 0; i < drawn.Count; i++)
        {
            var y = top + row * i + row / 2;
            var name = drawn[i].Covariate.Length > 45 ? drawn[i].Covariate[..44] + "…" : drawn[i].Covariate;
            svg.Append(Invariant, $"""<text x="{left - 4}" y="{y + 3}" text-anchor="end">{Esc(name)}</text>""");
            svg.Append(Invariant, $"""<circle cx="{F(X(Math.Abs(drawn[i].SmdBefore)))}" cy="{y}" r="3.5" fill="none" stroke="#777" />""");
            var after = Math.Abs(drawn[i].SmdAfter);
            svg.Append(Invariant, $"""<circle cx="{F(X(after))}" cy="{y}" r="3.5" fill="{(after > threshold ? "#c62828" : AnalysisCharts.TreatmentColour)}" />""");
        }

        return svg.Append("</svg>").ToString();
    }

    /// <summary>Hazard ratios with their intervals on a log axis, the overall one first, with the line at 1.</summary>
    public static string Forest(Estimate overall, IReadOnlyList<SubgroupEstimate> subgroups)
    {
        var rows = new List<(string Name, Estimate Estimate)> { ("Overall", overall) };
        rows.AddRange(subgroups.Where(s => s.HazardRatio is not null).Select(s => (s.Name, s.HazardRatio!)));
        const int left = 200, right = 10, top = 10, bottom = 30, row = 18;
        var height = top + bottom + row * rows.Count;
        var low = Math.Min(0.5, rows.Min(r => Math.Max(1e-3, r.Estimate.Lower)));
        var high = Math.Max(2, rows.Max(r => Math.Max(1e-3, r.Estimate.Upper)));
        double X(double v) => left + (Width - left - right) * (Math.Log(Math.Max(1e-3, v)) - Math.Log(low)) / (Math.Log(high) - Math.Log(low));
        var svg = new StringBuilder();
        svg.Append(Invariant, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" data-testid="print-forest-svg" style="font:10px sans-serif">""");
        Axes(svg, left, top, Width - right, height - bottom);
        svg.Append(Invariant, $"""<line x1="{F(X(1))}" y1="{top}" x2="{F(X(1))}" y2="{height - bottom}" stroke="#888" stroke-dasharray="4 3" />""");
        foreach (var tick in new[] { 0.25, 0.5, 1, 2, 4 }.Where(t => t >= low && t <= high))
        {
            svg.Append(Invariant, $"""<text x="{F(X(tick))}" y="{height - bottom + 12}" text-anchor="middle">{tick:0.##}</text>""");
        }

        svg.Append(Invariant, $"""<text x="{Width - right}" y="{height - 4}" text-anchor="end">hazard ratio (log scale)</text>""");
        for (var i = 0; i < rows.Count; i++)
        {
            var y = top + row * i + row / 2;
            var (name, estimate) = rows[i];
            svg.Append(Invariant, $"""<text x="{left - 4}" y="{y + 3}" text-anchor="end">{Esc(name)}</text>""");
            svg.Append(Invariant, $"""<line x1="{F(X(estimate.Lower))}" y1="{y}" x2="{F(X(estimate.Upper))}" y2="{y}" stroke="#333" />""");
            svg.Append(Invariant, $"""<rect x="{F(X(estimate.Value) - 4)}" y="{y - 4}" width="8" height="8" fill="{(i == 0 ? "#111" : AnalysisCharts.TreatmentColour)}" />""");
        }

        return svg.Append("</svg>").ToString();
    }

    private static void Axes(StringBuilder svg, int x0, int y0, int x1, int y1) =>
        svg.Append(Invariant, $"""<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="#444" /><line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#444" />""");

    private static string Step(IReadOnlyList<double> time, IReadOnlyList<double> value, Func<double, double> x, Func<double, double> y)
    {
        var points = new StringBuilder();
        for (var i = 0; i < Math.Min(time.Count, value.Count); i++)
        {
            if (i > 0)
            {
                points.Append(F(x(time[i]))).Append(',').Append(F(y(value[i - 1]))).Append(' ');
            }

            points.Append(F(x(time[i]))).Append(',').Append(F(y(value[i]))).Append(' ');
        }

        return points.ToString().TrimEnd();
    }
}
