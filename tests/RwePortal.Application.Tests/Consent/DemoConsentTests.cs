using Dapper;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Testing;

namespace RwePortal.Application.Tests.Consent;

/// <summary>
/// The demo's consent set-up, on a database of its own seeded as `./rwe demo` does (warehouse first, then the seed):
/// Northwind holds the demo sources, Acme is granted them for research purposes, Eunomia is under a waiver for research.
/// </summary>
public sealed class DemoConsentTests : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await AppMigrator.MigrateAsync(_database.OwnerConnectionString);
        await DemoSeeder.RunAsync(_database.OwnerConnectionString);
        foreach (var source in DemoSeeder.DemoSources)
        {
            await ConsentTestSources.CreateAsync(_database.OwnerConnectionString, source, 25, custodianSlug: null);
        }

        await DemoSeeder.RunAsync(_database.OwnerConnectionString);
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Northwind_holds_the_demo_sources_acme_uses_them_for_research_and_eunomia_counts_everyone_for_research()
    {
        await using var connection = new NpgsqlConnection(_database.OwnerConnectionString);
        await connection.OpenAsync();

        var custodians = await connection.QueryAsync<string>(
            "SELECT t.slug FROM app.data_sources d JOIN app.tenants t ON t.id = d.custodian_tenant_id WHERE d.name = ANY(@names)",
            new { names = DemoSeeder.DemoSources.ToArray() });
        Assert.Equal(["northwind", "northwind"], custodians);

        var acmeId = await connection.ExecuteScalarAsync<Guid>("SELECT id FROM app.tenants WHERE slug = 'acme'");
        await connection.ExecuteAsync("SELECT set_config('rwe.tenant_id', @tenant, false)", new { tenant = acmeId.ToString() });
        var acmePurposes = await connection.QueryAsync<string[]>(
            "SELECT g.purposes FROM app.tenant_data_source_grants g JOIN app.data_sources d ON d.id = g.data_source_id WHERE d.name = 'eunomia' AND g.tenant_id = app.current_tenant_id()");
        Assert.Equal(["research", "genomic_research", "wearable_research", "commercial_research"], Assert.Single(acmePurposes));

        var eunomia = (await connection.QueryAsync<(string Purpose, string Model, string? Reference, long Consented)>(
            "SELECT purpose, model, reference, consented FROM gov.consent_counts('eunomia')")).ToDictionary(r => r.Purpose);
        Assert.Equal(("waiver", DemoSeeder.EunomiaWaiverReference, 25L), (eunomia["research"].Model, eunomia["research"].Reference, eunomia["research"].Consented));
        Assert.Equal(("opt_in", 0L), (eunomia["genomic_research"].Model, eunomia["genomic_research"].Consented));
        Assert.All(
            await connection.QueryAsync<string>("SELECT model FROM gov.consent_counts('synthetic')"),
            model => Assert.Equal("opt_in", model));
    }
}
