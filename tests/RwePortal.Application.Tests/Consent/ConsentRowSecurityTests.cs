using Dapper;
using Npgsql;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Consent;

/// <summary>
/// The database holds the custodian's line by itself, attacked with the roles' own passwords: the portal's role with
/// another tenant set on its session, and the warehouse role that runs analysis SQL.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class ConsentRowSecurityTests(AppFixture fixture) : IAsyncLifetime
{
    private readonly string _source = "rls_" + Guid.NewGuid().ToString("N")[..10];

    private string Owner => fixture.Database.OwnerConnectionString;

    public async Task InitializeAsync()
    {
        await ConsentTestSources.CreateAsync(Owner, _source, 12, custodianSlug: "northwind");
        await ConsentTestSources.GrantAsync(Owner, _source, "acme", "research");
        for (var person = 1; person <= 12; person++)
        {
            await ConsentTestSources.AddConsentAsync(Owner, _source, person, "research", "granted", "2024-01-01");
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A session of the portal's role with a tenant set, as an attacker holding its password would open one.</summary>
    private async Task<NpgsqlConnection> AppSessionAsync(string tenantSlug)
    {
        var tenantId = await fixture.TenantIdAsync(tenantSlug);
        var connection = new NpgsqlConnection(fixture.Database.AppConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync($"SET rwe.tenant_id = '{tenantId}'");
        return connection;
    }

    private const string InsertWithdrawal =
        """
        INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by, reason)
        VALUES (@source, 1, 'research', 'withdrawn', current_date, 'attacker', 'forged')
        """;

    [Fact]
    public async Task The_app_role_with_another_tenant_set_sees_none_of_the_custodians_rows_and_cannot_insert_one()
    {
        await using var acme = await AppSessionAsync("acme");

        Assert.Equal(0, await acme.ExecuteScalarAsync<long>("SELECT count(*) FROM gov.consent WHERE source = @source", new { source = _source }));
        var insert = await Assert.ThrowsAsync<PostgresException>(() => acme.ExecuteAsync(InsertWithdrawal, new { source = _source }));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, insert.SqlState);
        Assert.Contains("row-level security", insert.MessageText, StringComparison.Ordinal);

        var model = await Assert.ThrowsAsync<PostgresException>(() => acme.ExecuteAsync(
            "INSERT INTO gov.consent_model (source, purpose, model, set_by) VALUES (@source, 'research', 'opt_out', 'attacker')",
            new { source = _source }));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, model.SqlState);
    }

    [Fact]
    public async Task The_app_role_with_the_custodian_set_reads_and_appends_but_never_changes_a_record()
    {
        await using var northwind = await AppSessionAsync("northwind");

        Assert.Equal(12, await northwind.ExecuteScalarAsync<long>("SELECT count(*) FROM gov.consent WHERE source = @source", new { source = _source }));
        Assert.Equal(1, await northwind.ExecuteAsync(InsertWithdrawal, new { source = _source }));
        var update = await Assert.ThrowsAsync<PostgresException>(() => northwind.ExecuteAsync(
            "UPDATE gov.consent SET status = 'granted' WHERE source = @source", new { source = _source }));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, update.SqlState);
    }

    [Fact]
    public async Task The_app_role_with_no_tenant_set_sees_no_consent_at_all()
    {
        await using var connection = new NpgsqlConnection(fixture.Database.AppConnectionString);

        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM gov.consent WHERE source = @source", new { source = _source }));
    }

    [Fact]
    public async Task The_app_role_cannot_make_its_tenant_the_custodian_of_a_source_that_has_one()
    {
        var acmeId = await fixture.TenantIdAsync("acme");
        await using var acme = await AppSessionAsync("acme");

        var update = await Assert.ThrowsAsync<PostgresException>(() => acme.ExecuteAsync(
            "UPDATE app.data_sources SET custodian_tenant_id = @acmeId WHERE name = @source", new { acmeId, source = _source }));
        var assigned = await acme.ExecuteScalarAsync<bool>(
            "SELECT app.assign_data_source_custodian(@source, @acmeId)", new { acmeId, source = _source });

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, update.SqlState);
        Assert.False(assigned);
        var insert = await Assert.ThrowsAsync<PostgresException>(() => acme.ExecuteAsync(InsertWithdrawal, new { source = _source }));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, insert.SqlState);
    }

    [Fact]
    public async Task The_warehouse_role_reads_the_sources_tables_and_consent_only_through_the_filter()
    {
        await using var reader = new NpgsqlConnection(fixture.Database.ReaderConnectionString);
        await reader.OpenAsync();

        Assert.Equal(12, await reader.ExecuteScalarAsync<long>($"SELECT count(*) FROM cdm_{_source}.person"));
        Assert.Equal(12, await reader.ExecuteScalarAsync<long>(
            $"""
            SELECT count(*) FROM cdm_{_source}.person p
            JOIN gov.consented_persons(@source, 'research') consented ON consented.person_id = p.person_id
            """,
            new { source = _source }));
        Assert.Equal(12, await reader.ExecuteScalarAsync<long>("SELECT gov.consent_excluded_count(@source, 'genomic_research')", new { source = _source }));

        foreach (var forbidden in new[]
        {
            "SELECT count(*) FROM gov.consent",
            "SELECT count(*) FROM gov.consent_model",
            "SELECT count(*) FROM gov.current_consent('x', 'research')",
            "SELECT count(*) FROM app.data_sources",
            "SELECT count(*) FROM app.tenants",
            "SELECT count(*) FROM app.tenant_data_source_grants",
        })
        {
            var denied = await Assert.ThrowsAsync<PostgresException>(() => reader.ExecuteScalarAsync<long>(forbidden));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
        }
    }
}
