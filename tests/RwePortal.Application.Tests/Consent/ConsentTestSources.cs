using Dapper;
using Npgsql;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Tests.Consent;

/// <summary>
/// Registers data sources with persons 1..n (person_source_value "SV&lt;id&gt;"), held by a demo tenant, and writes
/// consent records and models, as the owner role.
/// </summary>
internal static class ConsentTestSources
{
    /// <summary>Registers <paramref name="name"/> with <paramref name="persons"/> persons; <paramref name="custodianSlug"/> null leaves it without custodian.</summary>
    public static async Task CreateAsync(string ownerConnectionString, string name, int persons, string? custodianSlug = "northwind")
    {
        await using var dataSource = NpgsqlDataSource.Create(ownerConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        var custodian = custodianSlug is null
            ? null
            : await connection.ExecuteScalarAsync<Guid?>("SELECT id FROM app.tenants WHERE slug = @custodianSlug", new { custodianSlug });
        await new DataSourceRegistry(dataSource).AddAsync(name, "consent test source", custodian, CancellationToken.None);
        await connection.ExecuteAsync(
            $"""
            INSERT INTO cdm_{name}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id, person_source_value)
            SELECT g, 8507, 1960, 0, 0, 'SV' || g FROM generate_series(1, @persons) g
            """,
            new { persons });
    }

    /// <summary>Grants <paramref name="source"/> to a demo tenant for the purposes given (all by default), as a platform Admin's grant would.</summary>
    public static async Task GrantAsync(string ownerConnectionString, string source, string tenantSlug, params string[] purposes)
    {
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.OpenAsync();
        var tenantId = await connection.ExecuteScalarAsync<Guid>("SELECT id FROM app.tenants WHERE slug = @tenantSlug", new { tenantSlug });
        // Row-level security is forced on grants, for the owner too: work as the tenant the grant belongs to.
        await connection.ExecuteAsync("SELECT set_config('rwe.tenant_id', @tenant, false)", new { tenant = tenantId.ToString() });
        await connection.ExecuteAsync(
            """
            INSERT INTO app.tenant_data_source_grants (id, tenant_id, data_source_id, purposes, granted_at, granted_by)
            SELECT gen_random_uuid(), @tenantId, s.id, @purposes, now(), gen_random_uuid()
            FROM app.data_sources s
            WHERE s.name = @source
            """,
            new
            {
                source,
                tenantId,
                purposes = purposes.Length > 0 ? purposes : ["research", "genomic_research", "wearable_research", "commercial_research", "recontact"],
            });
    }

    /// <summary>Appends a record; <paramref name="from"/>, <paramref name="to"/> and <paramref name="recordedAt"/> are SQL expressions of a date / timestamptz.</summary>
    public static async Task AddConsentAsync(
        string ownerConnectionString,
        string source,
        long personId,
        string purpose,
        string status,
        string from,
        string? to = null,
        string recordedAt = "now()")
    {
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.ExecuteAsync(
            $"""
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, effective_to, recorded_at, recorded_by)
            VALUES (@source, @personId, @purpose, @status, {Date(from)}, {(to is null ? "NULL" : Date(to))}, {recordedAt}, 'test')
            """,
            new { source, personId, purpose, status });
    }

    /// <summary>Sets the consent model of a source and purpose, as the owner role.</summary>
    public static async Task SetModelAsync(string ownerConnectionString, string source, string purpose, string model, string? reference = null)
    {
        await using var connection = new NpgsqlConnection(ownerConnectionString);
        await connection.ExecuteAsync(
            "INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES (@source, @purpose, @model, @reference, 'test')",
            new { source, purpose, model, reference });
    }

    /// <summary>The persons gov.consented_persons returns today ("1,2"), asked as the warehouse role that runs cohort SQL.</summary>
    public static async Task<string> ConsentedAsync(string readerConnectionString, string source, string purpose)
    {
        await using var connection = new NpgsqlConnection(readerConnectionString);
        var ids = await connection.QueryAsync<long>(
            "SELECT person_id FROM gov.consented_persons(@source, @purpose) ORDER BY person_id",
            new { source, purpose });
        return string.Join(',', ids);
    }

    /// <summary>A literal date ('2024-01-01') or an expression (current_date - 3) as a date.</summary>
    private static string Date(string day) => day.Contains("current_date", StringComparison.Ordinal) ? $"({day})" : $"DATE '{day}'";
}
