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

    private static DynamicParameters Parameters(CompiledSubgroup compiled)
    {
        var parameters = new DynamicParameters();
        foreach (var parameter in compiled.Parameters)
        {
            parameters.Add(parameter.Name, parameter.Value);
        }

        return parameters;
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
