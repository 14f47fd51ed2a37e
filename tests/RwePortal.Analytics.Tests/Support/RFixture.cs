using System.Globalization;
using System.Text.Json;
using RwePortal.Analytics.Pipeline;
using RwePortal.Analytics.Weighting;

namespace RwePortal.Analytics.Tests.Support;

/// <summary>One folder of R-computed reference data: cohort.csv, weights.csv (R's ps and weight) and expected.json.</summary>
public sealed class RFixture
{
    private static readonly Dictionary<string, RFixture> Cache = [];
    private static readonly Lock CacheLock = new();

    private RFixture(string name)
    {
        Name = name;
        var folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
        Cohort = ReadCohort(Path.Combine(folder, "cohort.csv"));
        (RPs, RWeight) = ReadWeights(Path.Combine(folder, "weights.csv"), Cohort.PersonIds);
        Expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "expected.json"))).RootElement;
    }

    public string Name { get; }

    public Cohort Cohort { get; }

    public double[] RPs { get; }

    public double[] RWeight { get; }

    public JsonElement Expected { get; }

    public Estimand Estimand => Expected.GetProperty("estimand").GetString() switch
    {
        "ATE" => Estimand.Ate,
        "ATT" => Estimand.Att,
        "ATO" => Estimand.Ato,
        var other => throw new InvalidDataException($"Unknown estimand {other}"),
    };

    public Truncation? Truncation => Expected.GetProperty("truncate") is { ValueKind: JsonValueKind.Array } t
        ? new Truncation(t[0].GetDouble(), t[1].GetDouble())
        : null;

    public PsAnalysisOptions Options => new() { Estimand = Estimand, Truncation = Truncation };

    public static RFixture Load(string name)
    {
        lock (CacheLock)
        {
            if (!Cache.TryGetValue(name, out var fixture))
            {
                fixture = new RFixture(name);
                Cache[name] = fixture;
            }

            return fixture;
        }
    }

    public double Number(params string[] path)
    {
        var e = Expected;
        foreach (var p in path)
        {
            e = int.TryParse(p, out var index) ? e[index] : e.GetProperty(p);
        }

        return e.GetDouble();
    }

    private static Cohort ReadCohort(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',').Select(h => h.Trim('"')).ToArray();
        var n = lines.Length - 1;
        var values = new double[header.Length][];
        for (var j = 0; j < header.Length; j++)
        {
            values[j] = new double[n];
        }

        for (var i = 0; i < n; i++)
        {
            var cells = lines[i + 1].Split(',');
            for (var j = 0; j < header.Length; j++)
            {
                values[j][i] = double.Parse(cells[j], CultureInfo.InvariantCulture);
            }
        }

        int Col(string name) => Array.IndexOf(header, name);
        var covNames = header.Where(h => h is not ("person_id" or "treatment" or "time" or "event")).ToArray();
        return new Cohort(
            [.. values[Col("person_id")].Select(v => (long)v)],
            [.. values[Col("treatment")].Select(v => (int)v)],
            values[Col("time")],
            [.. values[Col("event")].Select(v => (int)v)],
            covNames,
            [.. covNames.Select(c => values[Col(c)])]);
    }

    private static (double[] Ps, double[] Weight) ReadWeights(string path, long[] personIds)
    {
        var byId = new Dictionary<long, (double, double)>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var cells = line.Split(',');
            byId[long.Parse(cells[0], CultureInfo.InvariantCulture)] =
                (double.Parse(cells[1], CultureInfo.InvariantCulture), double.Parse(cells[2], CultureInfo.InvariantCulture));
        }

        var ps = new double[personIds.Length];
        var w = new double[personIds.Length];
        for (var i = 0; i < personIds.Length; i++)
        {
            (ps[i], w[i]) = byId[personIds[i]];
        }

        return (ps, w);
    }
}
