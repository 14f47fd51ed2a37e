using Dapper;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Tests.Features.Subgroups;

/// <summary>
/// A 60-person source granted to Acme for research (under a waiver), for the library tests. Persons 1–25 are women;
/// 1–40 have GI bleeding (192671), 31–60 a sore throat (28060), 1, 3 and 4 also an ulcer (4112343); person 2 withdrew.
/// Consented truths: 39 bleeders, 30 sore throats, 36 bleeders without an ulcer, 24 bleeding women.
/// </summary>
internal static class LibrarySource
{
    public const string Bleed = """{"kind": "condition", "label": "GI bleed", "concepts": [{"id": 192671}]}""";
    public const string BleedingPersons = $$"""{"version": 1, "criteria": [{{Bleed}}]}""";
    public const string SoreThroats = """{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 28060}]}]}""";

    public static readonly string AcmeAnalyst = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.Analyst);
    public static readonly string AcmeStudyLead = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.StudyLead);
    public static readonly string NorthwindAnalyst = DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.Analyst);

    public static async Task<string> CreateAsync(AppFixture fixture, Guid acme, string vocabularyVersion = "v5.0 TEST-31-OCT-26")
    {
        var name = $"lib_{Guid.NewGuid():N}"[..16];
        await using var dataSource = NpgsqlDataSource.Create(fixture.Database.OwnerConnectionString);
        var registered = await new DataSourceRegistry(dataSource).AddAsync(name, "library test source", CancellationToken.None);
        await fixture.OwnerSqlAsync($"""
            INSERT INTO cdm_{name}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
            SELECT g, CASE WHEN g <= 25 THEN 8532 ELSE 8507 END, 1960, 0, 0 FROM generate_series(1, 60) g;
            INSERT INTO cdm_{name}.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_type_concept_id)
            SELECT g, g, 192671, DATE '2020-01-01', 32817 FROM generate_series(1, 40) g
            UNION ALL SELECT 100 + g, g, 28060, DATE '2020-02-01', 32817 FROM generate_series(31, 60) g
            UNION ALL SELECT 200 + g, g, 4112343, DATE '2020-03-01', 32817 FROM unnest(ARRAY[1, 3, 4]) g;
            INSERT INTO cdm_{name}.vocabulary (vocabulary_id, vocabulary_name, vocabulary_reference, vocabulary_version, vocabulary_concept_id)
            VALUES ('None', 'OMOP Standardized Vocabularies', 'OMOP generated', '{vocabularyVersion}', 0);
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('{name}', 'research', 'waiver', 'IRB-TEST-1', 'test');
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by)
            VALUES ('{name}', 2, 'research', 'withdrawn', current_date - 1, 'test');
            """);
        await using var db = await fixture.CreateDbContextAsync(acme);
        db.DataSourceGrants.Add(new TenantDataSourceGrant { TenantId = acme, DataSourceId = registered.Id, Purposes = [DataPurposes.Research] });
        await db.SaveChangesAsync();
        return name;
    }

    /// <summary>The exact rows and library revisions of the latest count of <paramref name="source"/> on the tenant's audit trail (read as the owner).</summary>
    public static async Task<(long Rows, string Library)> LastCountAsync(AppFixture fixture, Guid tenant, string source)
    {
        await using var connection = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        await connection.OpenAsync();
        return await connection.QuerySingleAsync<(long, string)>(
            """
            SELECT (details ->> 'rows')::bigint, coalesce(details -> 'parameters' -> 'library', '[]')::text
            FROM app.audit_event
            WHERE event_type = 'WarehouseQuery' AND tenant_id = @tenant AND details -> 'parameters' ->> 'source' = @source
            ORDER BY id DESC LIMIT 1
            """,
            new { tenant, source });
    }

    /// <summary>A connection as the portal's role (rwe_app) with row-level security pointed at <paramref name="tenant"/>.</summary>
    public static async Task<NpgsqlConnection> OpenAsAppAsync(AppFixture fixture, Guid tenant)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(fixture.Database.AppConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync("SELECT set_config('rwe.tenant_id', @tenant, false)", new { tenant = tenant.ToString() });
        return connection;
    }

    /// <summary>A subgroup whose only criterion is membership of <paramref name="id"/>, plus <paramref name="more"/> criteria.</summary>
    public static string MemberOf(Guid id, params string[] more) =>
        $$"""{"version": 1, "criteria": [{"kind": "subgroup", "id": "{{id}}"}{{string.Concat(more.Select(m => ", " + m))}}]}""";
}
