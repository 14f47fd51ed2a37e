using System.Globalization;
using System.Text.Json;

namespace RwePortal.Analytics.Tests.Support;

/// <summary>Fixtures/clustered: rows.csv (person_id, treatment, time, event, weight; persons repeat) and expected.json.</summary>
public sealed class ClusteredRows
{
    private ClusteredRows()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "clustered");
        var lines = File.ReadAllLines(Path.Combine(folder, "rows.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        double Cell(string[] c, int j) => double.Parse(c[j], CultureInfo.InvariantCulture);
        PersonId = [.. lines.Select(c => (long)Cell(c, 0))];
        Treatment = [.. lines.Select(c => (int)Cell(c, 1))];
        Time = [.. lines.Select(c => Cell(c, 2))];
        Event = [.. lines.Select(c => (int)Cell(c, 3))];
        Weight = [.. lines.Select(c => Cell(c, 4))];
        Expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "expected.json"))).RootElement;
    }

    public static ClusteredRows Instance { get; } = new();

    public long[] PersonId { get; }

    public int[] Treatment { get; }

    public double[] Time { get; }

    public int[] Event { get; }

    public double[] Weight { get; }

    public JsonElement Expected { get; }

    public double[] X => [.. Treatment.Select(t => (double)t)];

    public T[] Arm<T>(T[] values, int arm) => [.. values.Where((_, i) => Treatment[i] == arm)];
}
