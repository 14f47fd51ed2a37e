using Plotly.Blazor;
using Plotly.Blazor.Traces;
using Plotly.Blazor.Traces.ScatterLib;

namespace RwePortal.Web.Features.Analyses;

/// <summary>The traces and layouts the analyses charts share, so both arms look the same on every chart.</summary>
public static class AnalysisCharts
{
    public const string TreatmentColour = "#1f77b4";
    public const string ComparatorColour = "#ff7f0e";

    /// <summary>Whether a curve's arm is the comparator (the pipeline names arms "treatment" and "comparator", or by their labels).</summary>
    public static bool IsComparator(string arm, string comparatorLabel) =>
        arm.Equals("comparator", StringComparison.OrdinalIgnoreCase) || arm == comparatorLabel;

    /// <summary>The label a reader knows an arm by.</summary>
    public static string ArmLabel(string arm, string treatmentLabel, string comparatorLabel) =>
        arm.Equals("treatment", StringComparison.OrdinalIgnoreCase) ? treatmentLabel
        : arm.Equals("comparator", StringComparison.OrdinalIgnoreCase) ? comparatorLabel
        : arm;

    public static readonly Config Config = new() { Responsive = true, DisplayModeBar = Plotly.Blazor.ConfigLib.DisplayModeBarEnum.False };

    /// <summary>A filled density line.</summary>
    public static Scatter Area(string name, IList<object> x, IEnumerable<double> y, string colour) => new()
    {
        Name = name,
        X = x,
        Y = y.Select(v => (object)v).ToList(),
        Mode = ModeFlag.Lines,
        Fill = FillEnum.ToZeroY,
        Line = new Line { Color = colour },
        Opacity = 0.6m,
    };

    /// <summary>A straight guide line between two points (the 0.1 balance line, the null of a ratio).</summary>
    public static Scatter Guide(double x0, object y0, double x1, object y1, string name) => new()
    {
        Name = name,
        X = [x0, x1],
        Y = [y0, y1],
        Mode = ModeFlag.Lines,
        Line = new Line { Color = "#888", Dash = "dash" },
        ShowLegend = false,
        HoverInfo = HoverInfoFlag.Name,
    };

    public static Layout Layout(int height, string xTitle, string yTitle) => new()
    {
        Height = height,
        Margin = new Plotly.Blazor.LayoutLib.Margin { L = 60, R = 20, T = 10, B = 45 },
        XAxis = [new Plotly.Blazor.LayoutLib.XAxis { Title = new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = xTitle } }],
        YAxis = [new Plotly.Blazor.LayoutLib.YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = yTitle } }],
        Legend = [new Plotly.Blazor.LayoutLib.Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H, Y = 1.12m }],
    };
}
