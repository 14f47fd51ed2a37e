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

    /// <summary>Grants <paramref name="source"/> to a demo tenant for every purpose, as a platform Admin's grant would.</summary>
    public static async Task GrantAsync(string ownerConnectionString, string source, string tenantSlug)
    {
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.OpenAsync();
        // Row-level security is forced on grants, for the owner too: say that this is cross-tenant work.
        await connection.ExecuteAsync("SELECT set_config('rwe.cross_tenant', 'on', false)");
        await connection.ExecuteAsync(
            """
            INSERT INTO app.tenant_data_source_grants (id, tenant_id, data_source_id, purposes, granted_at, granted_by)
            SELECT gen_random_uuid(), t.id, s.id, ARRAY['research','genomic_research','wearable_research','commercial_research','recontact'],
                   now(), gen_random_uuid()
            FROM app.tenants t, app.data_sources s
            WHERE t.slug = @tenantSlug AND s.name = @source
            """,
            new { source, tenantSlug });
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
