using Npgsql;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Warehouse.Cohorts;

/// <summary>
/// The subgroup pre-aggregations of a source (db/extensions/aggregates.sql, decision 0741) and the source's consent
/// bitmaps (db/gov/consent_registry.sql, decision 0740): rebuilt by whatever writes a source's tables, as the owner.
/// </summary>
public static class SubgroupAggregates
{
    /// <summary>The pre-aggregation tables every data-source schema has (empty until the first rebuild).</summary>
    public static IReadOnlyList<string> Tables { get; } = ["agg_event", "agg_event_words", "agg_wearable_span", "agg_wearable_month", "agg_enrollment_span", "agg_enrollment_year_words", "agg_wearable_year", "agg_event_value"];

    /// <summary>Rebuilds the event summary of <paramref name="schemaName"/> and marks it fresh, then updates its statistics.</summary>
    public static async Task RebuildAsync(NpgsqlConnection connection, string schemaName, CancellationToken cancellationToken)
    {
        // A warehouse without the app migration (no consent registry) cannot run subgroup counts: nothing to keep.
        if (!await ExistsAsync(connection, "SELECT to_regprocedure('gov.mark_aggregates_stale()') IS NOT NULL AND to_regclass('gov.warehouse_aggregates') IS NOT NULL", cancellationToken))
        {
            return;
        }

        var sql = SqlResources.ReadForSchema(SqlResources.AggregatesRebuild, schemaName);
        // One transaction: the summary and its freshness commit together.
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using (var rebuild = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 })
            {
                await rebuild.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        await using var vacuum = new NpgsqlCommand($"VACUUM (ANALYZE) {schemaName}.agg_event, {schemaName}.agg_event_words, {schemaName}.agg_wearable_span, {schemaName}.agg_wearable_month, {schemaName}.agg_enrollment_span, {schemaName}.agg_enrollment_year_words, {schemaName}.agg_wearable_year, {schemaName}.agg_event_value", connection) { CommandTimeout = 0 };
        await vacuum.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    /// <summary>Rebuilds the aggregates of <paramref name="schemaName"/> if it was ever aggregated (an ingest into a loaded source).</summary>
    public static async Task RebuildIfAggregatedAsync(NpgsqlConnection connection, string schemaName, CancellationToken cancellationToken)
    {
        if (!await ExistsAsync(connection, "SELECT to_regclass('gov.warehouse_aggregates') IS NOT NULL", cancellationToken))
        {
            return;
        }

        await using (var find = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM gov.warehouse_aggregates WHERE schema_name = @schema)", connection))
        {
            find.Parameters.AddWithValue("schema", schemaName);
            if (await find.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return;
            }
        }

        await RebuildAsync(connection, schemaName, cancellationToken);
    }

    /// <summary>Rebuilds the consent bitmaps of every purpose of <paramref name="source"/>, judged today.</summary>
    public static async Task RefreshConsentAsync(NpgsqlConnection connection, string source, CancellationToken cancellationToken)
    {
        if (!await ExistsAsync(connection, "SELECT to_regprocedure('gov.refresh_consent_bitmaps(text, boolean)') IS NOT NULL", cancellationToken))
        {
            return;
        }

        await using var command = new NpgsqlCommand("SELECT gov.refresh_consent_bitmaps(@source, false)", connection) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("source", source);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Drops the consent bitmaps of <paramref name="source"/> (a load is about to replace its consent rows).</summary>
    public static async Task ForgetConsentAsync(NpgsqlConnection connection, string source, CancellationToken cancellationToken)
    {
        if (!await ExistsAsync(connection, "SELECT to_regclass('gov.consent_bitmap_state') IS NOT NULL AND to_regclass('gov.consent_bitmap') IS NOT NULL", cancellationToken))
        {
            return;
        }

        await using var command = new NpgsqlCommand(
            "DELETE FROM gov.consent_bitmap_state WHERE source = @source; DELETE FROM gov.consent_bitmap WHERE source = @source", connection) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("source", source);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
