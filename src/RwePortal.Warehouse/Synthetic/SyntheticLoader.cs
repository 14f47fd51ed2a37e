using System.Diagnostics;
using System.Threading.Channels;
using Npgsql;
using RwePortal.Warehouse.Schema;
using RwePortal.Warehouse.Sources;
using RwePortal.Warehouse.Vocabulary;

namespace RwePortal.Warehouse.Synthetic;

/// <summary>What to generate.</summary>
/// <param name="Persons">Number of persons (ids 1..Persons).</param>
/// <param name="Seed">Same seed, same rows.</param>
/// <param name="BatchSize">Persons per COPY round; bounds memory (two batches in flight).</param>
/// <param name="Parallelism">Generator threads; the database backend runs the COPY on its own core.</param>
public sealed record SyntheticOptions(long Persons, long Seed, int BatchSize = 2500, int Parallelism = 0)
{
    public int EffectiveParallelism => Parallelism > 0 ? Parallelism : Environment.ProcessorCount;
}

/// <summary>Rows and time of one table of a load.</summary>
public sealed record TableLoadFigure(string Table, long Rows, TimeSpan CopyTime);

/// <summary>What a generation run did and how long each phase took.</summary>
public sealed record SyntheticLoadReport(
    string Source,
    SyntheticOptions Options,
    IReadOnlyList<TableLoadFigure> Tables,
    TimeSpan Prepare,
    TimeSpan GenerateCpu,
    TimeSpan LoadWall,
    TimeSpan Commit,
    TimeSpan Indexes,
    TimeSpan Analyze,
    TimeSpan Total,
    SyntheticTruthSummary Truth)
{
    public long TotalRows => Tables.Sum(t => t.Rows);
}

/// <summary>Counts from the hidden truth of a run (for the report; the warehouse never holds them).</summary>
public sealed record SyntheticTruthSummary(long NewUsersSacubitrilValsartan, long NewUsersEnalapril, long PrevalentUsers, long NoTreatment, long FirstHfHospitalisations)
{
    public static SyntheticTruthSummary Empty { get; } = new(0, 0, 0, 0, 0);

    public SyntheticTruthSummary Add(PersonTruth t) => this with
    {
        NewUsersSacubitrilValsartan = NewUsersSacubitrilValsartan + (t.Arm == TreatmentArm.SacubitrilValsartan ? 1 : 0),
        NewUsersEnalapril = NewUsersEnalapril + (t.Arm == TreatmentArm.Enalapril ? 1 : 0),
        PrevalentUsers = PrevalentUsers + (t.Arm == TreatmentArm.PrevalentEnalapril ? 1 : 0),
        NoTreatment = NoTreatment + (t.Arm == TreatmentArm.None ? 1 : 0),
        FirstHfHospitalisations = FirstHfHospitalisations + (t.FirstHeartFailureHospitalisation is null ? 0 : 1),
    };
}

/// <summary>
/// Generates a synthetic source and loads it: the data tables are emptied and refilled in one transaction with binary
/// COPY (batches of persons generated in parallel while the previous batch streams to the server), then secondary
/// indexes are built and statistics gathered, and the row counts are recorded in the data-source registry.
/// </summary>
public static class SyntheticLoader
{
    /// <summary>Generates persons [first, first + count) in memory, in person order (tests and small tools).</summary>
    public static SyntheticBatch Generate(long seed, long first, int count)
    {
        var generator = new PersonGenerator(seed);
        var batch = new SyntheticBatch();
        for (var id = first; id < first + count; id++)
        {
            generator.Generate(id, batch);
        }

        return batch;
    }

    public static async Task<SyntheticLoadReport> LoadAsync(
        NpgsqlConnection connection,
        string sourceName,
        SyntheticOptions options,
        Action<string>? progress,
        CancellationToken cancellationToken)
    {
        if (options.Persons < 1 || options.Persons > PersonGenerator.MaxPersonId)
        {
            throw new WarehouseException($"--persons must be between 1 and {PersonGenerator.MaxPersonId:N0}");
        }

        if (options.BatchSize < 1)
        {
            throw new WarehouseException("--batch-size must be at least 1");
        }

        var schema = SchemaName.ForSource(sourceName);
        var total = Stopwatch.StartNew();
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync(cancellationToken);
        }

        if (await DataSourceRegistry.FindAsync(connection, sourceName, cancellationToken) is null)
        {
            throw new WarehouseException($"data source '{sourceName}' does not exist: add it with `rwe source add {sourceName}`");
        }

        await GovernanceSchema.EnsureAsync(connection, cancellationToken);
        await CdmSchema.CreateAsync(connection, schema, cancellationToken);

        var prepare = Stopwatch.StartNew();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await PrepareTablesAsync(connection, schema, sourceName, cancellationToken);
        var vocabulary = await VocabularyLoader.ReplaceAsync(connection, schema, cancellationToken);
        prepare.Stop();
        progress?.Invoke($"prepared {schema} (tables emptied, secondary indexes dropped, vocabulary subset loaded) in {prepare.Elapsed.TotalSeconds:F1} s");

        var tables = SyntheticTables.All;
        var rows = new long[tables.Count];
        var copyTicks = new long[tables.Count];
        long generateTicks = 0;
        var truth = SyntheticTruthSummary.Empty;
        var load = Stopwatch.StartNew();

        var channel = Channel.CreateBounded<SyntheticBatch[]>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        var producer = Task.Run(
            async () =>
            {
                try
                {
                    var generator = new PersonGenerator(options.Seed);
                    for (long start = 1; start <= options.Persons; start += options.BatchSize)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var count = (int)Math.Min(options.BatchSize, options.Persons - start + 1);
                        var parts = Math.Max(1, Math.Min(options.EffectiveParallelism, count / 50));
                        var chunks = new SyntheticBatch[parts];
                        var first = start;
                        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
                        {
                            var watch = Stopwatch.StartNew();
                            var from = first + ((long)count * part / parts);
                            var to = first + ((long)count * (part + 1) / parts);
                            var chunk = new SyntheticBatch();
                            for (var id = from; id < to; id++)
                            {
                                generator.Generate(id, chunk);
                            }

                            chunks[part] = chunk;
                            Interlocked.Add(ref generateTicks, watch.Elapsed.Ticks);
                        });
                        await channel.Writer.WriteAsync(chunks, cancellationToken);
                    }

                    channel.Writer.Complete();
                }
                catch (Exception e)
                {
                    channel.Writer.Complete(e);
                    throw;
                }
            },
            cancellationToken);

        long persons = 0;
        var lastReport = Stopwatch.StartNew();
        await foreach (var chunks in channel.Reader.ReadAllAsync(cancellationToken))
        {
            // Synchronous COPY on this thread: the binary importer's sync path is much faster per value.
            for (var t = 0; t < tables.Count; t++)
            {
                var watch = Stopwatch.StartNew();
                rows[t] += tables[t].Write(connection, schema, sourceName, chunks);
                copyTicks[t] += watch.Elapsed.Ticks;
            }

            foreach (var chunk in chunks)
            {
                persons += chunk.Persons.Count;
                foreach (var t in chunk.Truths)
                {
                    truth = truth.Add(t);
                }
            }

            if (lastReport.Elapsed.TotalSeconds >= 10)
            {
                progress?.Invoke($"{persons:N0} / {options.Persons:N0} persons, {rows.Sum():N0} rows, {load.Elapsed.TotalSeconds:F0} s");
                lastReport.Restart();
            }
        }

        await producer;
        load.Stop();

        var commit = Stopwatch.StartNew();
        await transaction.CommitAsync(cancellationToken);
        commit.Stop();
        progress?.Invoke($"loaded {rows.Sum():N0} rows in {load.Elapsed.TotalSeconds:F1} s; committed in {commit.Elapsed.TotalSeconds:F1} s");

        var indexes = Stopwatch.StartNew();
        await CdmSchema.CreateIndexesAsync(connection, schema, cancellationToken);
        indexes.Stop();
        progress?.Invoke($"indexes built in {indexes.Elapsed.TotalSeconds:F1} s");

        var analyze = Stopwatch.StartNew();
        await CdmSchema.AnalyzeAsync(connection, schema, cancellationToken);
        await CdmSchema.ExecuteAsync(connection, "ANALYZE gov.consent;", cancellationToken);
        analyze.Stop();

        // Subgroup pre-aggregations and consent bitmaps of the new rows (decisions 0740, 0741).
        var aggregates = Stopwatch.StartNew();
        await Cohorts.SubgroupAggregates.RebuildAsync(connection, schema, cancellationToken);
        await Cohorts.SubgroupAggregates.RefreshConsentAsync(connection, sourceName, cancellationToken);
        aggregates.Stop();
        progress?.Invoke($"subgroup aggregates and consent bitmaps built in {aggregates.Elapsed.TotalSeconds:F1} s");
        progress?.Invoke($"statistics gathered in {analyze.Elapsed.TotalSeconds:F1} s");

        var figures = new List<TableLoadFigure>();
        for (var t = 0; t < tables.Count; t++)
        {
            figures.Add(new TableLoadFigure(tables[t].IsGovernance ? "gov." + tables[t].Name : tables[t].Name, rows[t], TimeSpan.FromTicks(copyTicks[t])));
        }

        var counts = figures.Where(f => !f.Table.StartsWith("gov.", StringComparison.Ordinal)).ToDictionary(f => f.Table, f => f.Rows, StringComparer.Ordinal);
        foreach (var (table, count) in vocabulary)
        {
            counts[table] = count;
        }

        await DataSourceRegistry.RecordLoadAsync(connection, sourceName, counts, cancellationToken);
        total.Stop();
        return new SyntheticLoadReport(
            sourceName, options, figures, prepare.Elapsed, TimeSpan.FromTicks(generateTicks), load.Elapsed, commit.Elapsed,
            indexes.Elapsed, analyze.Elapsed, total.Elapsed, truth);
    }

    /// <summary>
    /// Empties the tables the generator writes (and this source's consent rows) and drops their secondary indexes,
    /// inside the load's transaction: with wal_level=minimal, COPY into a table truncated in the same transaction
    /// skips the write-ahead log, and loading without indexes and rebuilding them is much faster than maintaining them.
    /// </summary>
    private static async Task PrepareTablesAsync(NpgsqlConnection connection, string schema, string sourceName, CancellationToken cancellationToken)
    {
        var dataTables = SyntheticTables.All.Where(t => !t.IsGovernance).Select(t => t.Name).ToList();
        var indexNames = new List<string>();
        await using (var find = new NpgsqlCommand(
            """
            SELECT i.indexname
            FROM pg_indexes i
            WHERE i.schemaname = @schema AND i.tablename = ANY(@tables)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = @schema::regnamespace)
            ORDER BY i.indexname
            """,
            connection))
        {
            find.Parameters.AddWithValue("schema", schema);
            find.Parameters.AddWithValue("tables", dataTables.ToArray());
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                indexNames.Add(reader.GetString(0));
            }
        }

        var sql = new List<string>
        {
            "SET LOCAL synchronous_commit = off",
            $"TRUNCATE {string.Join(", ", dataTables.Select(t => schema + "." + t))}",
        };
        // Index names come from the catalog and are quoted as identifiers.
        sql.AddRange(indexNames.Select(n => $"DROP INDEX {schema}.\"{n.Replace("\"", "\"\"", StringComparison.Ordinal)}\""));

        // CDM primary keys are applied after loads (db/omop/primary_keys.sql, CdmSchema.CreateIndexesAsync re-adds
        // them); the extension tables' keys are part of their DDL and stay.
        sql.AddRange(dataTables.Where(t => !CdmSchema.ExtensionTables.Contains(t)).Select(t => $"ALTER TABLE {schema}.{t} DROP CONSTRAINT IF EXISTS xpk_{t}"));
        foreach (var statement in sql)
        {
            await using var command = new NpgsqlCommand(statement, connection) { CommandTimeout = 0 };
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        // Without bitmaps the consent triggers leave the COPY batches alone; the load rebuilds them at the end.
        await Cohorts.SubgroupAggregates.ForgetConsentAsync(connection, sourceName, cancellationToken);
        await using var delete = new NpgsqlCommand("DELETE FROM gov.consent WHERE source = @source", connection) { CommandTimeout = 0 };
        delete.Parameters.AddWithValue("source", sourceName);
        await delete.ExecuteNonQueryAsync(cancellationToken);
    }
}
