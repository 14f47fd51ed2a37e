using System.Globalization;
using System.Text.Json;

namespace RwePortal.Analytics.Tests.Support;

/// <summary>Fixtures/clustered*: rows.csv (person_id, treatment, time, event, weight; persons repeat) and expected.json.</summary>
public sealed class ClusteredRows
{
    private static readonly Dictionary<string, ClusteredRows> Cache = [];
    private static readonly Lock CacheLock = new();

    private ClusteredRows(string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
        var lines = File.ReadAllLines(Path.Combine(folder, "rows.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        double Cell(string[] c, int j) => double.Parse(c[j], CultureInfo.InvariantCulture);
        PersonId = [.. lines.Select(c => (long)Cell(c, 0))];
        Treatment = [.. lines.Select(c => (int)Cell(c, 1))];
        Time = [.. lines.Select(c => Cell(c, 2))];
        Event = [.. lines.Select(c => (int)Cell(c, 3))];
        Weight = [.. lines.Select(c => Cell(c, 4))];
        Expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "expected.json"))).RootElement;
    }

    /// <summary>Fixtures/clustered (seed 11, times in days).</summary>
    public static ClusteredRows Instance => Load("clustered");

    public static ClusteredRows Load(string name)
    {
        lock (CacheLock)
        {
            if (!Cache.TryGetValue(name, out var rows))
            {
                rows = new ClusteredRows(name);
                Cache[name] = rows;
            }

            return rows;
        }
    }

    public long[] PersonId { get; }

    public int[] Treatment { get; }

    public double[] Time { get; }

    public int[] Event { get; }

    public double[] Weight { get; }

    public JsonElement Expected { get; }

    public double[] X => [.. Treatment.Select(t => (double)t)];

    public T[] Arm<T>(T[] values, int arm) => [.. values.Where((_, i) => Treatment[i] == arm)];
}
