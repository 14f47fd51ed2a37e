using RwePortal.Application.Features.Protocols;

namespace RwePortal.Web.Features.Protocols;

/// <summary>
/// A component's line diff laid out side by side: unchanged lines on both sides, a deleted line on the left facing the
/// inserted line that replaced it on the right; a long run of unchanged lines is collapsed to its count, keeping
/// <see cref="Context"/> lines next to each change.
/// </summary>
public static class ProtocolDiffRows
{
    public const int Context = 2;

    public sealed record Row(CompareProtocolVersions.DiffLine? Left, CompareProtocolVersions.DiffLine? Right, int Collapsed = 0);

    public static IReadOnlyList<Row> Layout(IReadOnlyList<CompareProtocolVersions.DiffLine> lines)
    {
        var rows = new List<Row>();
        var i = 0;
        while (i < lines.Count)
        {
            if (lines[i].Change == CompareProtocolVersions.LineChange.Unchanged)
            {
                rows.Add(new Row(lines[i], lines[i]));
                i++;
                continue;
            }

            var deleted = new List<CompareProtocolVersions.DiffLine>();
            var inserted = new List<CompareProtocolVersions.DiffLine>();
            while (i < lines.Count && lines[i].Change != CompareProtocolVersions.LineChange.Unchanged)
            {
                (lines[i].Change == CompareProtocolVersions.LineChange.Deleted ? deleted : inserted).Add(lines[i]);
                i++;
            }

            for (var k = 0; k < Math.Max(deleted.Count, inserted.Count); k++)
            {
                rows.Add(new Row(k < deleted.Count ? deleted[k] : null, k < inserted.Count ? inserted[k] : null));
            }
        }

        return Collapse(rows);
    }

    private static List<Row> Collapse(List<Row> rows)
    {
        bool Changed(int index) => index >= 0 && index < rows.Count && !(rows[index].Left is { Change: CompareProtocolVersions.LineChange.Unchanged });
        var keep = rows.Select((_, index) => Enumerable.Range(index - Context, (2 * Context) + 1).Any(Changed)).ToList();
        var result = new List<Row>();
        var hidden = 0;
        for (var index = 0; index < rows.Count; index++)
        {
            if (keep[index])
            {
                if (hidden > 0)
                {
                    result.Add(new Row(null, null, hidden));
                    hidden = 0;
                }

                result.Add(rows[index]);
            }
            else
            {
                hidden++;
            }
        }

        if (hidden > 0)
        {
            result.Add(new Row(null, null, hidden));
        }

        return result;
    }
}
