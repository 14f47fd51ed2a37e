using Dapper;
using Npgsql;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Tests.Consent;

/// <summary>Registers data sources with persons 1..n (person_source_value "SV&lt;id&gt;") and writes consent rows, as the owner role.</summary>
internal static class ConsentTestSources
{
    public static async Task CreateAsync(string ownerConnectionString, string name, int persons)
    {
        await using var dataSource = NpgsqlDataSource.Create(ownerConnectionString);
        await new DataSourceRegistry(dataSource).AddAsync(name, "consent test source", CancellationToken.None);
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            $"""
            INSERT INTO cdm_{name}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id, person_source_value)
            SELECT g, 8507, 1960, 0, 0, 'SV' || g FROM generate_series(1, @persons) g
            """,
            new { persons });
    }

    public static async Task AddConsentAsync(
        string ownerConnectionString,
        string source,
        long personId,
        string purpose,
        string status,
        string from,
        string? to = null)
    {
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.ExecuteAsync(
            """
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, effective_to, recorded_by)
            VALUES (@source, @personId, @purpose, @status, CAST(@from AS date), CAST(@to AS date), 'test')
            """,
            new { source, personId, purpose, status, from, to });
    }

    /// <summary>The persons gov.consented_persons returns ("1,2"), asked as the warehouse role that runs cohort SQL.</summary>
    public static async Task<string> ConsentedAsync(string readerConnectionString, string source, string purpose, string at)
    {
        await using var connection = new NpgsqlConnection(readerConnectionString);
        var ids = await connection.QueryAsync<long>(
            "SELECT person_id FROM gov.consented_persons(@source, @purpose, CAST(@at AS date)) ORDER BY person_id",
            new { source, purpose, at });
        return string.Join(',', ids);
    }
}
