using Dapper;
using RwePortal.Warehouse.Ingest;

namespace RwePortal.Warehouse.Tests.Ingest;

/// <summary>rwe ingest-wearable: Fitbit-style daily and heart-rate CSVs load; bad rows reject both files, nothing written.</summary>
public sealed class WearableIngestTests(IngestFixture fixture) : IClassFixture<IngestFixture>
{
    [Fact]
    public async Task A_fitbit_export_loads_daily_rows_and_hourly_mean_heart_rate_and_loading_it_again_replaces_them()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var first = await IngestAsync(connection, "wearable/dailyActivity.csv", "wearable/heartrate_seconds.csv");
        var again = await IngestAsync(connection, "wearable/dailyActivity.csv", "wearable/heartrate_seconds.csv");

        Assert.Equal((2, 5L, 7L, 3L), (first.Persons, first.DailyRows, first.HeartRateReadings, first.HourlyRows));
        Assert.Equal(first, again);
        var day = await connection.QuerySingleAsync<(int Steps, decimal RestingHr, int? Sleep, int Wear)>(
            """
            SELECT w.steps, w.resting_hr, w.sleep_minutes, w.wear_minutes FROM cdm_ing.wearable_daily w
            JOIN cdm_ing.person p ON p.person_id = w.person_id
            WHERE p.person_source_value = 'SYN0000001' AND w.measurement_date = DATE '2016-04-12' AND w.device = 'fitbit'
            """);
        Assert.Equal((13162, 64m, (int?)327, 25 + 13 + 328 + 728), day);
        var hour = await connection.ExecuteScalarAsync<decimal>(
            """
            SELECT h.mean_hr FROM cdm_ing.wearable_hourly h JOIN cdm_ing.person p ON p.person_id = h.person_id
            WHERE p.person_source_value = 'SYN0000001' AND h.hour = TIMESTAMP '2016-04-12 07:00' AND h.device = 'fitbit'
            """);
        Assert.Equal(101.3m, hour);
        Assert.Equal(5, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM cdm_ing.wearable_daily WHERE device = 'fitbit'"));
    }

    [Fact]
    public async Task Bad_rows_in_either_file_reject_the_ingest_with_line_numbers_and_nothing_is_written()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var before = await CountsAsync(connection);

        var error = await Assert.ThrowsAsync<IngestValidationException>(() => IngestAsync(connection, "wearable/dailyActivity_bad.csv", "wearable/heartrate_bad.csv", "bad-device"));

        var daily = error.Problems.Where(p => p.File == "dailyActivity_bad.csv").Select(p => p.Line).Order().ToArray();
        var heart = error.Problems.Where(p => p.File == "heartrate_bad.csv").Select(p => p.Line).Order().ToArray();
        Assert.Equal([3, 4, 5, 6, 7], daily);
        Assert.Equal([3, 4], heart);
        Assert.Contains(error.Problems, p => p.Line == 6 && p.Message.Contains("first on line 2", StringComparison.Ordinal));
        Assert.Equal(before, await CountsAsync(connection));

        // A good daily file with a bad heart-rate file writes nothing either.
        await Assert.ThrowsAsync<IngestValidationException>(() => IngestAsync(connection, "wearable/dailyActivity.csv", "wearable/heartrate_bad.csv", "bad-device"));
        Assert.Equal(before, await CountsAsync(connection));
    }

    private static Task<WearableIngestResult> IngestAsync(Npgsql.NpgsqlConnection connection, string daily, string? heartRate, string device = "fitbit") =>
        WearableIngester.IngestAsync(connection, IngestFixture.Source, IngestFixture.DataFile(daily), heartRate is null ? null : IngestFixture.DataFile(heartRate), device, CancellationToken.None);

    private static async Task<(long Daily, long Hourly)> CountsAsync(Npgsql.NpgsqlConnection connection) =>
        (await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM cdm_ing.wearable_daily"),
         await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM cdm_ing.wearable_hourly"));
}
