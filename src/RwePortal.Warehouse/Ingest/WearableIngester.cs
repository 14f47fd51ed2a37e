using System.Globalization;
using CsvHelper;
using Npgsql;
using NpgsqlTypes;
using RwePortal.Warehouse.Schema;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Ingest;

/// <summary>What a wearable ingest wrote.</summary>
public sealed record WearableIngestResult(int Persons, long DailyRows, long HeartRateReadings, long HourlyRows);

/// <summary>
/// Loads a Fitbit-style export into wearable_daily and wearable_hourly: the daily activity CSV
/// (<c>Id,ActivityDate,TotalSteps,...</c>, as dailyActivity_merged.csv) and optionally heart rate readings
/// (<c>Id,Time,Value</c>, as heartrate_seconds_merged.csv), averaged per hour. Id is a person's person_source_value.
/// Both files are validated completely before anything is written; rows already present for the same person, day
/// (or hour) and device are replaced. One transaction.
/// </summary>
public static class WearableIngester
{
    private static readonly string[] DateFormats = ["M/d/yyyy", "yyyy-MM-dd", "MM/dd/yyyy"];

    private static readonly string[] TimeFormats =
    [
        "M/d/yyyy h:mm:ss tt", "M/d/yyyy h:mm tt", "M/d/yyyy H:mm:ss", "M/d/yyyy H:mm",
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-dd HH:mm",
    ];

    private static readonly string[] MinuteColumns = ["VeryActiveMinutes", "FairlyActiveMinutes", "LightlyActiveMinutes", "SedentaryMinutes"];

    private sealed record Daily(long PersonId, DateOnly Date, int Steps, decimal? RestingHr, decimal? Hrv, int? SleepMinutes, int? WearMinutes);

    public static async Task<WearableIngestResult> IngestAsync(
        NpgsqlConnection connection,
        string sourceName,
        string dailyPath,
        string? heartRatePath,
        string device,
        CancellationToken cancellationToken)
    {
        var schema = SchemaName.ForSource(sourceName);
        if (string.IsNullOrWhiteSpace(device))
        {
            throw new WarehouseException("--device must not be empty");
        }

        foreach (var path in new[] { dailyPath, heartRatePath }.OfType<string>())
        {
            if (!File.Exists(path))
            {
                throw new WarehouseException($"file '{path}' does not exist");
            }
        }

        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync(cancellationToken);
        }

        if (await DataSourceRegistry.FindAsync(connection, sourceName, cancellationToken) is null)
        {
            throw new WarehouseException($"data source '{sourceName}' does not exist: add it with `rwe source add {sourceName}`");
        }

        // Persons are looked up once for the ids of both files.
        var ids = ReadIds(dailyPath).Concat(heartRatePath is null ? [] : ReadIds(heartRatePath));
        var persons = await IngestPersons.FindAsync(connection, schema, ids, cancellationToken);

        var problems = new ProblemList(Path.GetFileName(dailyPath));
        var daily = ReadDaily(dailyPath, persons, problems);
        var hourly = new Dictionary<(long Person, DateTime Hour), (double Sum, int Count)>();
        long readings = 0;
        if (heartRatePath is not null)
        {
            var heartProblems = new ProblemList(Path.GetFileName(heartRatePath));
            readings = ReadHeartRate(heartRatePath, persons, heartProblems, hourly);
            problems.Merge(heartProblems);
        }

        if (problems.Any)
        {
            throw problems.ToException();
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, $"CREATE TEMP TABLE ingest_wearable_daily (LIKE {schema}.wearable_daily) ON COMMIT DROP", cancellationToken);
        await using (var w = await connection.BeginBinaryImportAsync(
            "COPY ingest_wearable_daily (person_id, measurement_date, device, steps, resting_hr, hrv_rmssd, sleep_minutes, wear_minutes) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var row in daily)
            {
                await w.StartRowAsync(cancellationToken);
                await w.WriteAsync(row.PersonId, NpgsqlDbType.Bigint, cancellationToken);
                await w.WriteAsync(row.Date, NpgsqlDbType.Date, cancellationToken);
                await w.WriteAsync(device, NpgsqlDbType.Text, cancellationToken);
                await w.WriteAsync(row.Steps, NpgsqlDbType.Integer, cancellationToken);
                await WriteAsync(w, row.RestingHr, cancellationToken);
                await WriteAsync(w, row.Hrv, cancellationToken);
                await WriteAsync(w, row.SleepMinutes, cancellationToken);
                await WriteAsync(w, row.WearMinutes, cancellationToken);
            }

            await w.CompleteAsync(cancellationToken);
        }

        await ExecuteAsync(
            connection,
            $"""
            INSERT INTO {schema}.wearable_daily (person_id, measurement_date, device, steps, resting_hr, hrv_rmssd, sleep_minutes, wear_minutes)
            SELECT person_id, measurement_date, device, steps, resting_hr, hrv_rmssd, sleep_minutes, wear_minutes FROM ingest_wearable_daily
            ON CONFLICT (person_id, measurement_date, device) DO UPDATE SET
                steps = EXCLUDED.steps, resting_hr = EXCLUDED.resting_hr, hrv_rmssd = EXCLUDED.hrv_rmssd,
                sleep_minutes = EXCLUDED.sleep_minutes, wear_minutes = EXCLUDED.wear_minutes
            """,
            cancellationToken);

        if (hourly.Count > 0)
        {
            await ExecuteAsync(connection, $"CREATE TEMP TABLE ingest_wearable_hourly (LIKE {schema}.wearable_hourly) ON COMMIT DROP", cancellationToken);
            await using (var w = await connection.BeginBinaryImportAsync(
                "COPY ingest_wearable_hourly (person_id, hour, device, mean_hr) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                foreach (var ((person, hour), (sum, count)) in hourly.OrderBy(h => h.Key.Person).ThenBy(h => h.Key.Hour))
                {
                    await w.StartRowAsync(cancellationToken);
                    await w.WriteAsync(person, NpgsqlDbType.Bigint, cancellationToken);
                    await w.WriteAsync(hour, NpgsqlDbType.Timestamp, cancellationToken);
                    await w.WriteAsync(device, NpgsqlDbType.Text, cancellationToken);
                    await w.WriteAsync(Math.Round((decimal)(sum / count), 1), NpgsqlDbType.Numeric, cancellationToken);
                }

                await w.CompleteAsync(cancellationToken);
            }

            await ExecuteAsync(
                connection,
                $"""
                INSERT INTO {schema}.wearable_hourly (person_id, hour, device, mean_hr)
                SELECT person_id, hour, device, mean_hr FROM ingest_wearable_hourly
                ON CONFLICT (person_id, hour, device) DO UPDATE SET mean_hr = EXCLUDED.mean_hr
                """,
                cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        // The daily rows are summarised for subgroup counts (decision 0741): the write marked them stale; rebuild.
        await Cohorts.SubgroupAggregates.RebuildIfAggregatedAsync(connection, schema, cancellationToken);
        var distinctPersons = daily.Select(d => d.PersonId).Concat(hourly.Keys.Select(k => k.Person)).Distinct().Count();
        return new WearableIngestResult(distinctPersons, daily.Count, readings, hourly.Count);
    }

    private static CsvReader OpenCsv(string path) =>
        CsvReader.FromFile(path, CsvReaderOptions.Default with
        {
            Separator = ',',
            HasHeader = true,
            TrackLineNumbers = true,
            Mode = CsvMode.Rfc4180,
            MalformedData = CsvMalformedDataHandling.Throw,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            SkipEmptyLines = true,
            TrimWhitespace = true,
        });

    /// <summary>Reads records, turning malformed CSV into a problem on its line (the rest of that file is not read).</summary>
    private static IEnumerable<(int Line, string[] Fields)> Records(CsvReader csv, ProblemList problems)
    {
        while (true)
        {
            string[] fields;
            int line;
            try
            {
                if (!csv.Read())
                {
                    yield break;
                }

                line = (int)csv.LineNumber;
                fields = new string[csv.FieldCount];
                for (var i = 0; i < fields.Length; i++)
                {
                    fields[i] = csv.GetString(i);
                }
            }
            catch (CsvFormatException e)
            {
                problems.Add((int)e.LineNumber, $"malformed CSV: {e.Message}");
                yield break;
            }

            yield return (line, fields);
        }
    }

    private static string[]? Header(CsvReader csv, ProblemList problems, string expected)
    {
        try
        {
            csv.ReadHeader();
        }
        catch (CsvFormatException e)
        {
            problems.Add(1, $"the header is not valid CSV: {e.Message}");
            return null;
        }

        if (csv.Headers is not { Count: > 0 } headers)
        {
            problems.Add(1, $"empty file: expected a header {expected}");
            return null;
        }

        return [.. headers];
    }

    private static List<string> ReadIds(string path)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        using var csv = OpenCsv(path);
        var ignored = new ProblemList(path);
        var header = Header(csv, ignored, "Id,...");
        var index = header is null ? -1 : Array.FindIndex(header, h => string.Equals(h, "Id", StringComparison.OrdinalIgnoreCase));
        if (index < 0)
        {
            return [];
        }

        foreach (var (_, fields) in Records(csv, ignored))
        {
            if (index < fields.Length && fields[index].Length > 0)
            {
                ids.Add(fields[index]);
            }
        }

        return [.. ids];
    }

    private static List<Daily> ReadDaily(string path, Dictionary<string, long> persons, ProblemList problems)
    {
        var rows = new List<Daily>();
        using var csv = OpenCsv(path);
        if (Header(csv, problems, "Id,ActivityDate,TotalSteps,...") is not { } header)
        {
            return rows;
        }

        int Column(params string[] names) => Array.FindIndex(header, h => names.Any(n => string.Equals(h, n, StringComparison.OrdinalIgnoreCase)));
        var id = Column("Id");
        var date = Column("ActivityDate", "ActivityDay", "Date");
        var steps = Column("TotalSteps", "StepTotal", "Steps");
        if (id < 0 || date < 0 || steps < 0)
        {
            problems.Add(1, "the header must have the columns Id, ActivityDate and TotalSteps");
            return rows;
        }

        var resting = Column("RestingHeartRate", "RestingHR");
        var hrv = Column("DailyRmssd", "RmssdHrv", "HRV");
        var sleep = Column("TotalMinutesAsleep", "SleepMinutes");
        var wear = Column("WearMinutes");
        var minuteColumns = MinuteColumns.Select(c => Column(c)).ToArray();
        var seen = new Dictionary<(long, DateOnly), int>();
        foreach (var (line, fields) in Records(csv, problems))
        {

            if (fields.Length < header.Length)
            {
                problems.Add(line, $"expected {header.Length} columns, found {fields.Length}");
                continue;
            }

            var before = problems.Count;
            var personId = Person(fields[id], persons, problems, line);
            var day = ParseDate(fields[date], problems, line);
            var stepCount = ParseInt(fields[steps], "TotalSteps", 0, 200_000, problems, line);
            var restingHr = resting < 0 ? null : ParseDecimal(fields[resting], "RestingHeartRate", 20, 200, problems, line);
            var rmssd = hrv < 0 ? null : ParseDecimal(fields[hrv], "HRV", 1, 300, problems, line);
            var asleep = sleep < 0 || fields[sleep].Length == 0 ? null : ParseInt(fields[sleep], "TotalMinutesAsleep", 0, 1440, problems, line);
            int? wearMinutes = null;
            if (wear >= 0 && fields[wear].Length > 0)
            {
                wearMinutes = ParseInt(fields[wear], "WearMinutes", 0, 1440, problems, line);
            }
            else if (wear < 0 && minuteColumns.All(c => c >= 0))
            {
                // Minutes in any activity level, sedentary included, is the time the device reported on.
                var total = 0;
                foreach (var c in minuteColumns)
                {
                    total += ParseInt(fields[c], header[c], 0, 1440, problems, line) ?? 0;
                }

                wearMinutes = Math.Min(total, 1440);
            }

            if (problems.Count > before || personId is null || day is null || stepCount is null)
            {
                continue;
            }

            if (seen.TryGetValue((personId.Value, day.Value), out var firstLine))
            {
                problems.Add(line, $"Id {fields[id]} has a second row for {fields[date]} (first on line {firstLine})");
                continue;
            }

            seen[(personId.Value, day.Value)] = line;
            rows.Add(new Daily(personId.Value, day.Value, stepCount.Value, restingHr, rmssd, asleep, wearMinutes));
        }

        return rows;
    }

    private static long ReadHeartRate(string path, Dictionary<string, long> persons, ProblemList problems, Dictionary<(long Person, DateTime Hour), (double Sum, int Count)> hourly)
    {
        using var csv = OpenCsv(path);
        if (Header(csv, problems, "Id,Time,Value") is not { } header)
        {
            return 0;
        }

        var id = Array.FindIndex(header, h => string.Equals(h, "Id", StringComparison.OrdinalIgnoreCase));
        var time = Array.FindIndex(header, h => string.Equals(h, "Time", StringComparison.OrdinalIgnoreCase));
        var value = Array.FindIndex(header, h => string.Equals(h, "Value", StringComparison.OrdinalIgnoreCase));
        if (id < 0 || time < 0 || value < 0)
        {
            problems.Add(1, "the header must have the columns Id, Time and Value");
            return 0;
        }

        long readings = 0;
        foreach (var (line, fields) in Records(csv, problems))
        {

            if (fields.Length < header.Length)
            {
                problems.Add(line, $"expected {header.Length} columns, found {fields.Length}");
                continue;
            }

            var personId = Person(fields[id], persons, problems, line);
            DateTime? at = DateTime.TryParseExact(fields[time], TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed) ? parsed : null;
            if (at is null)
            {
                problems.Add(line, $"Time '{fields[time]}' is not a date and time (e.g. 4/12/2016 7:21:00 AM)");
            }

            var bpm = ParseDecimal(fields[value], "Value", 20, 250, problems, line);
            if (personId is null || at is null || bpm is null)
            {
                continue;
            }

            var hour = new DateTime(at.Value.Year, at.Value.Month, at.Value.Day, at.Value.Hour, 0, 0, DateTimeKind.Unspecified);
            var key = (personId.Value, hour);
            var (sum, count) = hourly.GetValueOrDefault(key);
            hourly[key] = (sum + (double)bpm.Value, count + 1);
            readings++;
        }

        return readings;
    }

    private static long? Person(string id, Dictionary<string, long> persons, ProblemList problems, int line)
    {
        if (string.IsNullOrEmpty(id))
        {
            problems.Add(line, "Id is empty");
            return null;
        }

        if (!persons.TryGetValue(id, out var personId))
        {
            problems.Add(line, $"Id '{id}' matches no person (person_source_value)");
            return null;
        }

        return personId;
    }

    private static DateOnly? ParseDate(string text, ProblemList problems, int line)
    {
        if (DateOnly.TryParseExact(text, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        problems.Add(line, $"ActivityDate '{text}' is not a date (M/d/yyyy or yyyy-MM-dd)");
        return null;
    }

    private static int? ParseInt(string text, string column, int min, int max, ProblemList problems, int line)
    {
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        problems.Add(line, $"{column} '{text}' is not a whole number from {min} to {max}");
        return null;
    }

    private static decimal? ParseDecimal(string text, string column, decimal min, decimal max, ProblemList problems, int line)
    {
        if (string.IsNullOrEmpty(text) && column != "Value")
        {
            return null;
        }

        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        problems.Add(line, $"{column} '{text}' is not a number from {min} to {max}");
        return null;
    }

    private static async Task WriteAsync(NpgsqlBinaryImporter w, decimal? value, CancellationToken cancellationToken)
    {
        if (value is { } v)
        {
            await w.WriteAsync(v, NpgsqlDbType.Numeric, cancellationToken);
        }
        else
        {
            await w.WriteNullAsync(cancellationToken);
        }
    }

    private static async Task WriteAsync(NpgsqlBinaryImporter w, int? value, CancellationToken cancellationToken)
    {
        if (value is { } v)
        {
            await w.WriteAsync(v, NpgsqlDbType.Integer, cancellationToken);
        }
        else
        {
            await w.WriteNullAsync(cancellationToken);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
