using System.Globalization;
using RwePortal.Application.Features.Subgroups;

namespace RwePortal.Web.Features.Subgroups;

/// <summary>How Table 1 cells read: counts as the policy shows them, percentages and distributions only where given.</summary>
public static class Table1Format
{
    public static string Count(Table1Row? row) => row?.Count?.Display ?? (row?.Distribution is { } d ? d.N.Display : "");

    public static string Percent(Table1Row? row) => row?.Percent is { } p ? p.ToString("0.0", CultureInfo.InvariantCulture) + " %" : "";

    /// <summary>"62.4 (11.0); 63 [55–71] years", or "" when nothing is shown.</summary>
    public static string Distribution(Table1Row? row)
    {
        if (row?.Distribution is not { Mean: not null } d)
        {
            return "";
        }

        var text = $"{Number(d.Mean)} ({Number(d.Sd)})";
        if (d.Median is not null)
        {
            text += $"; {Number(d.Median)} [{Number(d.P25)}–{Number(d.P75)}]";
        }

        return d.Unit is { Length: > 0 } unit ? $"{text} {unit}" : text;
    }

    public static string Smd(double? smd) => smd?.ToString("0.000", CultureInfo.InvariantCulture) ?? "";

    private static string Number(double? value) => value is null ? "–" : value.Value.ToString(Math.Abs(value.Value) >= 100 ? "N0" : "0.0#", CultureInfo.InvariantCulture);
}
