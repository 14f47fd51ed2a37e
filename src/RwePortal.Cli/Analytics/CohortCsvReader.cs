using System.Globalization;
using CsvHelper;
using RwePortal.Analytics.Pipeline;

namespace RwePortal.Cli.Analytics;

/// <summary>A problem in an input file, with its position (line 1 is the header; column is the header name).</summary>
internal sealed record InputError(string File, int? Line, string? Column, string Message)
{
    public override string ToString()
    {
        var where = File;
        if (Line is { } line)
        {
            where += $", line {line}";
        }

        if (Column is not null)
        {
            where += $", column '{Column}'";
        }

        return $"{where}: {Message}";
    }
}

/// <summary>
/// Reads an analysis cohort CSV (person_id, treatment, time, event, numeric covariates) into a <see cref="Cohort"/>,
/// stopping at the first bad cell with its line and column.
/// </summary>
internal static class CohortCsvReader
{
    private static readonly string[] Required = ["person_id", "treatment", "time", "event"];

    public static (Cohort? Cohort, InputError? Error) Read(string path, IReadOnlyList<string>? covariates)
    {
        var file = Path.GetFileName(path);
        if (!File.Exists(path))
        {
            return (null, new InputError(path, null, null, "file not found"));
        }

        var options = new CsvReaderOptions
        {
            HasHeader = true,
            TrackLineNumbers = true,
            SkipEmptyLines = true,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            MissingField = CsvMissingFieldHandling.ReturnEmpty,
            FormatProvider = CultureInfo.InvariantCulture,
        };
        using var csv = CsvReader.FromFile(path, options);
        var hasRow = csv.Read();
        var header = csv.Headers.ToArray();
        if (header.Length == 0)
        {
            return (null, new InputError(file, 1, null, "the file is empty (a header is required)"));
        }

        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var j = 0; j < header.Length; j++)
        {
            if (!index.TryAdd(header[j], j))
            {
                return (null, new InputError(file, 1, header[j], "the column appears twice"));
            }
        }

        foreach (var name in Required)
        {
            if (!index.ContainsKey(name))
            {
                return (null, new InputError(file, 1, name, "missing required column"));
            }
        }

        var covNames = covariates is { Count: > 0 }
            ? covariates.ToArray()
            : header.Where(h => Array.IndexOf(Required, h) < 0).ToArray();
        foreach (var name in covNames)
        {
            if (!index.ContainsKey(name))
            {
                return (null, new InputError(file, 1, name, "missing covariate column"));
            }

            if (Array.IndexOf(Required, name) >= 0)
            {
                return (null, new InputError(file, 1, name, "is not a covariate"));
            }
        }

        var ids = new List<long>();
        var treatment = new List<int>();
        var time = new List<double>();
        var events = new List<int>();
        var columns = covNames.Select(_ => new List<double>()).ToArray();
        var idCol = index["person_id"];
        var tCol = index["treatment"];
        var timeCol = index["time"];
        var eCol = index["event"];
        var covCols = covNames.Select(c => index[c]).ToArray();
        for (; hasRow; hasRow = csv.Read())
        {
            var line = (int)csv.LineNumber;
            if (csv.FieldCount != header.Length)
            {
                return (null, new InputError(file, line, null, $"expected {header.Length} fields, found {csv.FieldCount}"));
            }

            var record = csv.Current;
            if (!long.TryParse(record.GetString(idCol), NumberStyles.Integer, CultureInfo.InvariantCulture, out var id))
            {
                return (null, new InputError(file, line, "person_id", $"not an integer: '{record.GetString(idCol)}'"));
            }

            if (!TryNumber(record.GetString(tCol), out var t) || t is not (0 or 1))
            {
                return (null, new InputError(file, line, "treatment", $"treatment must be 0 or 1, found '{record.GetString(tCol)}'"));
            }

            if (!TryNumber(record.GetString(timeCol), out var tm))
            {
                return (null, new InputError(file, line, "time", $"not a number: '{record.GetString(timeCol)}'"));
            }

            if (!(tm > 0))
            {
                return (null, new InputError(file, line, "time", $"time must be > 0 days, found {record.GetString(timeCol)}"));
            }

            if (!TryNumber(record.GetString(eCol), out var ev) || ev is not (0 or 1))
            {
                return (null, new InputError(file, line, "event", $"event must be 0 or 1, found '{record.GetString(eCol)}'"));
            }

            for (var j = 0; j < covCols.Length; j++)
            {
                if (!TryNumber(record.GetSpan(covCols[j]), out var v))
                {
                    return (null, new InputError(file, line, covNames[j], $"not a number: '{record.GetString(covCols[j])}'"));
                }

                columns[j].Add(v);
            }

            ids.Add(id);
            treatment.Add((int)t);
            time.Add(tm);
            events.Add((int)ev);
        }

        if (ids.Count == 0)
        {
            return (null, new InputError(file, null, null, "no data rows"));
        }

        var treated = treatment.Sum();
        if (treated == 0 || treated == ids.Count)
        {
            return (null, new InputError(file, null, "treatment", $"the {(treated == 0 ? "treated" : "control")} arm is empty"));
        }

        var cohort = new Cohort([.. ids], [.. treatment], [.. time], [.. events], covNames, [.. columns.Select(c => c.ToArray())]);
        return (cohort, null);
    }

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static bool TryNumber(ReadOnlySpan<byte> utf8, out double value) =>
        double.TryParse(utf8, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}
