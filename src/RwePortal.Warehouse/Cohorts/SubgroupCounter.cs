using Dapper;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Cohorts;

/// <summary>People remaining after one attrition step (consented).</summary>
public sealed record AttritionStep(string Step, long Remaining);

/// <summary>
/// A subgroup count on one source for one purpose: <see cref="Count"/> consented persons match; consent removed
/// <see cref="RemovedByConsent"/> of those who match; <see cref="Attrition"/> lists the consented population, then the
/// persons left after each top-level criterion in order. Exact numbers: callers that show them apply the small-cell policy.
/// </summary>
public sealed record SubgroupCount(string Source, string Purpose, long Count, long RemovedByConsent, long Persons, IReadOnlyList<AttritionStep> Attrition, TimeSpan Duration);

/// <summary>
/// A subgroup's count alone (decision 0745): <see cref="Count"/> consented persons match, consent removed
/// <see cref="RemovedByConsent"/>; the same numbers as the last step of <see cref="SubgroupCount"/>, without the attrition.
/// <see cref="Driver"/> is the top-level criterion the count started from (null: none); <see cref="Statement"/> the
/// statement that ran (for the audit trail).
/// </summary>
public sealed record SubgroupTotal(string Source, string Purpose, long Count, long RemovedByConsent, int? Driver, TimeSpan Duration, CompiledSubgroup Statement);

/// <summary>Runs compiled subgroup statements through the warehouse read seam, as the read-only warehouse role.</summary>
public sealed class SubgroupCounter(WarehouseConnections connections)
{
    /// <summary>The purpose a count is for when the caller names none.</summary>
    public const string DefaultPurpose = "research";

    /// <summary>
    /// Settings for the count's own transaction (decision 0742): the person-level hash joins and aggregates of a large
    /// source fit in memory instead of spilling, and the population is hash-joined, never sorted, with its sets.
    /// </summary>
    internal const string PlannerSettings = "SET LOCAL work_mem = '256MB'; SET LOCAL hash_mem_multiplier = 2; SET LOCAL enable_mergejoin = off";

    public static CompiledSubgroup Compile(SubgroupDefinition definition, DataSource source, string purpose) =>
        SubgroupCompiler.Compile(definition, source.SchemaName, source.Name, purpose);

    /// <summary>Runs the statement under EXPLAIN (ANALYZE, BUFFERS) as the reader and returns the plan's lines.</summary>
    public async Task<IReadOnlyList<string>> ExplainAsync(SubgroupDefinition definition, DataSource source, string purpose, CancellationToken cancellationToken)
    {
        var compiled = Compile(definition, source, purpose);
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(PlannerSettings, transaction: transaction, cancellationToken: cancellationToken));
        var lines = await connection.QueryAsync<string>(new CommandDefinition(
            "EXPLAIN (ANALYZE, BUFFERS) " + compiled.Sql, Parameters(compiled), transaction, WarehouseConnections.CommandTimeoutSeconds, cancellationToken: cancellationToken));
        return lines.ToList();
    }

    /// <summary>Runs the count statement of <see cref="CountTotalAsync"/> (its driver chosen the same way) under EXPLAIN (ANALYZE, BUFFERS).</summary>
    public async Task<IReadOnlyList<string>> ExplainTotalAsync(SubgroupDefinition definition, DataSource source, string purpose, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(PlannerSettings, transaction: transaction, cancellationToken: cancellationToken));
        var compiled = SubgroupCompiler.CompileCount(definition, source.SchemaName, source.Name, purpose, await DriverAsync(connection, transaction, definition, source, cancellationToken));
        var lines = await connection.QueryAsync<string>(new CommandDefinition(
            "EXPLAIN (ANALYZE, BUFFERS) " + compiled.Sql, Parameters(compiled), transaction, WarehouseConnections.CommandTimeoutSeconds, cancellationToken: cancellationToken));
        return lines.ToList();
    }

    /// <summary>The criterion a count starts from: the candidate with the smallest row estimate, if within <see cref="DriverLimit"/>.</summary>
    private static async Task<int?> DriverAsync(
        System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction transaction, SubgroupDefinition definition, DataSource source, CancellationToken cancellationToken)
    {
        int? driver = null;
        var smallest = DriverLimit;
        foreach (var (criterion, rows) in SubgroupCompiler.CountDrivers(definition, source.SchemaName))
        {
            var plan = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
                "EXPLAIN (FORMAT JSON) " + rows.Sql, Parameters(rows), transaction, WarehouseConnections.CommandTimeoutSeconds, cancellationToken: cancellationToken));
            var estimate = EstimatedRows(plan!);
            if (estimate <= smallest)
            {
                smallest = estimate;
                driver = criterion;
            }
        }

        return driver;
    }

    private static DynamicParameters Parameters(CompiledSubgroup compiled)
    {
        var parameters = new DynamicParameters();
        foreach (var parameter in compiled.Parameters)
        {
            parameters.Add(parameter.Name, parameter.Value);
        }

        return parameters;
    }

    /// <summary>
    /// A count drives from a person set only when the planner expects at most this many rows of it: beyond, asking every
    /// other criterion per person costs more than the population-wide statement (decision 0745).
    /// </summary>
    public const double DriverLimit = 100_000;

    /// <summary>
    /// The count alone, without attrition (decision 0745): sizes the criteria it could start from by the planner's
    /// estimate (EXPLAIN, no row read), drives from the smallest within <see cref="DriverLimit"/>, and runs the count
    /// statement in the same read-only transaction and settings as <see cref="CountAsync"/>.
    /// </summary>
    public async Task<SubgroupTotal> CountTotalAsync(SubgroupDefinition definition, DataSource source, string purpose, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(PlannerSettings, transaction: transaction, cancellationToken: cancellationToken));
        var driver = await DriverAsync(connection, transaction, definition, source, cancellationToken);
        var compiled = SubgroupCompiler.CompileCount(definition, source.SchemaName, source.Name, purpose, driver);
        var (count, beforeConsent) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
            compiled.Sql, Parameters(compiled), transaction, WarehouseConnections.CommandTimeoutSeconds, cancellationToken: cancellationToken));
        return new SubgroupTotal(source.Name, purpose, count, beforeConsent - count, driver, clock.Elapsed, compiled);
    }

    /// <summary>The top plan node's row estimate of an EXPLAIN (FORMAT JSON) result.</summary>
    internal static double EstimatedRows(string plan)
    {
        using var document = System.Text.Json.JsonDocument.Parse(plan);
        return document.RootElement[0].GetProperty("Plan").GetProperty("Plan Rows").GetDouble();
    }

    public async Task<SubgroupCount> CountAsync(SubgroupDefinition definition, DataSource source, string purpose, CancellationToken cancellationToken)
    {
        var compiled = Compile(definition, source, purpose);
        var parameters = Parameters(compiled);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var connection = await connections.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(PlannerSettings, transaction: transaction, cancellationToken: cancellationToken));
        using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            compiled.Sql, parameters, transaction, WarehouseConnections.CommandTimeoutSeconds, cancellationToken: cancellationToken));
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException("a subgroup count returned no row");
        }

        var persons = reader.GetInt64(0);
        var attrition = new List<AttritionStep>();
        for (var i = 0; i < compiled.Steps.Count; i++)
        {
            attrition.Add(new AttritionStep(compiled.Steps[i], reader.GetInt64(1 + i)));
        }

        var beforeConsent = reader.GetInt64(1 + compiled.Steps.Count);
        var count = attrition[^1].Remaining;
        return new SubgroupCount(source.Name, purpose, count, beforeConsent - count, persons, attrition, clock.Elapsed);
    }
}
