using System.Text;

namespace RwePortal.Cli.Infrastructure;

/// <summary>Renders rows as a plain-text table with padded columns, for terminal output.</summary>
internal static class TextTable
{
    public static string Render(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, IReadOnlyCollection<int>? rightAligned = null)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => i < r.Count ? r[i].Length : 0))).ToArray();
        var text = new StringBuilder();
        AppendRow(text, headers, widths, rightAligned);
        text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in all)
        {
            AppendRow(text, row, widths, rightAligned);
        }

        return text.ToString();
    }

    private static void AppendRow(StringBuilder text, IReadOnlyList<string> cells, int[] widths, IReadOnlyCollection<int>? rightAligned)
    {
        var padded = widths.Select((w, i) =>
        {
            var cell = i < cells.Count ? cells[i] : string.Empty;
            return rightAligned?.Contains(i) == true ? cell.PadLeft(w) : cell.PadRight(w);
        });
        text.AppendLine(string.Join("  ", padded).TrimEnd());
    }
}
