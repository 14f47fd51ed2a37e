using Npgsql;
using NpgsqlTypes;
using RwePortal.Warehouse.Schema;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Ingest;

/// <summary>What a VCF ingest wrote.</summary>
public sealed record VcfIngestResult(int Samples, long Sites, long Variants, DateOnly SampleDate);

/// <summary>
/// Loads a VCF into variant_occurrence of a data source: each sample column is a person (matched on
/// person.person_source_value), each non-reference genotype a row. The file is validated completely while it streams
/// into a binary COPY; if any problem is found the COPY is cancelled and the transaction rolled back, so a rejected
/// file writes nothing.
/// </summary>
public static class VcfIngester
{
    public static async Task<VcfIngestResult> IngestAsync(
        NpgsqlConnection connection,
        string sourceName,
        string path,
        DateOnly? sampleDate,
        CancellationToken cancellationToken)
    {
        var schema = SchemaName.ForSource(sourceName);
        if (!File.Exists(path))
        {
            throw new WarehouseException($"file '{path}' does not exist");
        }

        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync(cancellationToken);
        }

        if (await DataSourceRegistry.FindAsync(connection, sourceName, cancellationToken) is null)
        {
            throw new WarehouseException($"data source '{sourceName}' does not exist: add it with `rwe source add {sourceName}`");
        }

        var fileName = Path.GetFileName(path);
        var problems = new ProblemList(fileName);
        var reader = new VcfReader(problems);
        using var text = new StreamReader(path);
        var line = 0;
        if (!reader.ReadHeader(text, ref line))
        {
            throw problems.ToException();
        }

        var persons = await IngestPersons.FindAsync(connection, schema, reader.Samples, cancellationToken);
        foreach (var sample in reader.Samples.Where(s => !persons.ContainsKey(s)))
        {
            problems.Add(reader.HeaderLine, $"sample '{sample}' matches no person (person_source_value) in {schema}");
        }

        var date = sampleDate ?? reader.FileDate ?? DateOnly.FromDateTime(DateTime.UtcNow);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockTable = new NpgsqlCommand($"LOCK TABLE {schema}.variant_occurrence IN EXCLUSIVE MODE", connection))
        {
            await lockTable.ExecuteNonQueryAsync(cancellationToken);
        }

        long nextId;
        await using (var max = new NpgsqlCommand($"SELECT COALESCE(max(variant_occurrence_id), 0) + 1 FROM {schema}.variant_occurrence", connection))
        {
            nextId = (long)(await max.ExecuteScalarAsync(cancellationToken))!;
        }

        long sites = 0, variants = 0;
        var importer = await connection.BeginBinaryImportAsync(
            $"COPY {schema}.variant_occurrence (variant_occurrence_id, person_id, sample_date, gene_symbol, hgvs_c, hgvs_p, rsid, chromosome, position, reference_allele, alternate_allele, zygosity, clinical_significance, variant_source_value) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        try
        {
            while (await text.ReadLineAsync(cancellationToken) is { } record)
            {
                line++;
                if (record.Length == 0)
                {
                    continue;
                }

                sites++;
                var calls = reader.ReadRecord(record, line);
                if (problems.Any)
                {
                    // Keep reading to report every problem; nothing more is written.
                    continue;
                }

                foreach (var call in calls)
                {
                    await importer.StartRowAsync(cancellationToken);
                    await importer.WriteAsync(nextId++, NpgsqlDbType.Bigint, cancellationToken);
                    await importer.WriteAsync(persons[call.Sample], NpgsqlDbType.Bigint, cancellationToken);
                    await importer.WriteAsync(date, NpgsqlDbType.Date, cancellationToken);
                    await WriteTextAsync(importer, call.GeneSymbol, cancellationToken);
                    await WriteTextAsync(importer, call.HgvsC, cancellationToken);
                    await WriteTextAsync(importer, call.HgvsP, cancellationToken);
                    await WriteTextAsync(importer, call.Rsid, cancellationToken);
                    await importer.WriteAsync(call.Chromosome, NpgsqlDbType.Text, cancellationToken);
                    await importer.WriteAsync(call.Position, NpgsqlDbType.Bigint, cancellationToken);
                    await importer.WriteAsync(call.ReferenceAllele, NpgsqlDbType.Text, cancellationToken);
                    await importer.WriteAsync(call.AlternateAllele, NpgsqlDbType.Text, cancellationToken);
                    await importer.WriteAsync(call.Zygosity, NpgsqlDbType.Text, cancellationToken);
                    await WriteTextAsync(importer, call.ClinicalSignificance, cancellationToken);
                    await importer.WriteAsync($"vcf:{fileName}:{call.Line}", NpgsqlDbType.Text, cancellationToken);
                    variants++;
                }
            }

            if (problems.Any)
            {
                throw problems.ToException();
            }

            await importer.CompleteAsync(cancellationToken);
        }
        finally
        {
            // Disposing an importer that was not completed cancels the COPY.
            await importer.DisposeAsync();
        }

        await transaction.CommitAsync(cancellationToken);
        return new VcfIngestResult(reader.Samples.Count, sites, variants, date);
    }

    private static async Task WriteTextAsync(NpgsqlBinaryImporter importer, string? value, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            await importer.WriteNullAsync(cancellationToken);
        }
        else
        {
            await importer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);
        }
    }
}

/// <summary>Maps source identifiers (VCF sample names, device export ids) to person ids of a data source.</summary>
internal static class IngestPersons
{
    public static async Task<Dictionary<string, long>> FindAsync(NpgsqlConnection connection, string schema, IEnumerable<string> sourceValues, CancellationToken cancellationToken)
    {
        var map = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand(
            $"SELECT person_source_value, min(person_id) FROM {schema}.person WHERE person_source_value = ANY(@values) GROUP BY person_source_value",
            connection);
        command.Parameters.AddWithValue("values", sourceValues.Distinct(StringComparer.Ordinal).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            map[reader.GetString(0)] = reader.GetInt64(1);
        }

        return map;
    }
}
