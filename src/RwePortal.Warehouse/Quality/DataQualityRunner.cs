using System.Diagnostics;
using Dapper;
using Npgsql;
using RwePortal.Warehouse.Schema;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Quality;

/// <summary>Runs the checks of <see cref="DqCheckCatalog"/> against one data source and returns the report.</summary>
public sealed class DataQualityRunner(NpgsqlDataSource dataSource)
{
    private const int CheckTimeoutSeconds = 600;

    public async Task<DqReport> RunAsync(string sourceName, CancellationToken cancellationToken) =>
        await RunAsync(sourceName, DqCheckCatalog.Build(CdmSpecification.Load()), cancellationToken);

    public async Task<DqReport> RunAsync(string sourceName, IReadOnlyList<DqCheck> checks, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var source = await DataSourceRegistry.FindAsync(connection, sourceName, cancellationToken)
            ?? throw new WarehouseException($"data source '{sourceName}' does not exist: add it with `rwe source add {sourceName}`");
        var schemaName = SchemaName.Validate(source.SchemaName);

        var vocabularyLoaded = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            $"SELECT EXISTS (SELECT 1 FROM {schemaName}.concept)",
            commandTimeout: CheckTimeoutSeconds,
            cancellationToken: cancellationToken));

        var results = new List<DqResult>(checks.Count);
        foreach (var check in checks)
        {
            if (check.RequiresVocabulary && !vocabularyLoaded)
            {
                results.Add(Result(check, DqStatus.NotApplicable, 0, 0, "no vocabulary loaded (concept is empty)"));
                continue;
            }

            var sql = check.Sql.Replace(SqlResources.SchemaPlaceholder, schemaName, StringComparison.Ordinal);
            var (violating, total) = await connection.QuerySingleAsync<(long Violating, long Total)>(new CommandDefinition(
                sql,
                check.Parameters,
                commandTimeout: CheckTimeoutSeconds,
                cancellationToken: cancellationToken));
            var status = check.StatusOf(violating, total);
            results.Add(Result(check, status, violating, total, status == DqStatus.NotApplicable ? "no rows to check" : null));
        }

        return new DqReport(sourceName, schemaName, startedAt, clock.Elapsed, vocabularyLoaded, results);
    }

    private static DqResult Result(DqCheck check, DqStatus status, long violating, long total, string? note) => new(
        check.Id,
        check.Category,
        check.Table,
        check.Field,
        check.Description,
        status,
        violating,
        total,
        total == 0 ? 0 : Math.Round(100.0 * violating / total, 4),
        check.FailAbovePercent,
        check.WarnAbovePercent,
        note);
}
