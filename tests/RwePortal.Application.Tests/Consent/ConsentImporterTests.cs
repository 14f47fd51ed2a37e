using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RwePortal.Application.Audit;
using RwePortal.Application.Consent;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Consent;

/// <summary>The shared CSV importer: a valid file applies whole; any bad line applies nothing and is named.</summary>
[Collection(AppCollection.Name)]
public sealed class ConsentImporterTests(AppFixture fixture) : IAsyncLifetime
{
    private readonly string _source = "imp_" + Guid.NewGuid().ToString("N")[..10];

    private Guid _custodian;

    public async Task InitializeAsync()
    {
        await ConsentTestSources.CreateAsync(fixture.Database.OwnerConnectionString, _source, 30, custodianSlug: "northwind");
        _custodian = await fixture.TenantIdAsync("northwind");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<ConsentImportResult> ImportAsync(string csv)
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        var importer = scope.ServiceProvider.GetRequiredService<ConsentImporter>();
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(csv));
        return await importer.ImportAsync(_source, stream, "consent.csv", ConsentImporter.AuditAs(AuditActor.Service("test")), "test", _custodian, CancellationToken.None);
    }

    private async Task<long> RowsAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM gov.consent WHERE source = @source", new { source = _source });
    }

    private const string Valid =
        """
        person_id,purpose,status,effective_from,effective_to,reason
        1,research,granted,2024-01-01,,
        2,research,granted,2024-01-01,2024-12-31,fixed term
        3,genomic_research,granted,2024-02-01,,
        1,research,withdrawn,2024-06-01,,participant request
        """;

    [Fact]
    public async Task A_valid_file_is_applied_whole_with_its_audit_event()
    {
        var result = await ImportAsync(Valid);

        Assert.True(result.Applied, string.Join("; ", result.Errors));
        Assert.Equal((4, 3, 1), (result.Rows, result.Granted, result.Withdrawn));
        Assert.Equal(4, await RowsAsync());
        // Today: person 1 withdrew (recorded after the grant), person 2's grant has ended; person 3 consents to genomic research.
        Assert.Equal("", await ConsentTestSources.ConsentedAsync(fixture.Database.ReaderConnectionString, _source, "research"));
        Assert.Equal("3", await ConsentTestSources.ConsentedAsync(fixture.Database.ReaderConnectionString, _source, "genomic_research"));

        await using var connection = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        var audited = await connection.QuerySingleAsync<Guid?>(
            "SELECT tenant_id FROM app.audit_event WHERE event_type = 'ConsentChanged' AND details->>'source' = @source AND (details->>'rows')::int = 4",
            new { source = _source });
        Assert.Equal(_custodian, audited);
    }

    [Fact]
    public async Task Persons_can_be_named_by_their_source_value()
    {
        var result = await ImportAsync(
            """
            person_source_value,purpose,status,effective_from
            SV5,recontact,granted,2024-01-01
            """);

        Assert.True(result.Applied, string.Join("; ", result.Errors));
        Assert.Equal("5", await ConsentTestSources.ConsentedAsync(fixture.Database.ReaderConnectionString, _source, "recontact"));
    }

    [Theory]
    [InlineData("4,astrology,granted,2024-01-01,,", "purpose", "unknown purpose 'astrology'")]
    [InlineData("4,research,granted,2024-13-01,,", "effective_from", "is not a date")]
    [InlineData("999,research,granted,2024-01-01,,", "person_id", "person 999 does not exist")]
    [InlineData("4,research,maybe,2024-01-01,,", "status", "is not a status")]
    [InlineData("4,research,granted,2024-05-01,2024-04-01,", "effective_to", "is before effective_from")]
    [InlineData("x4,research,granted,2024-01-01,,", "person_id", "is not a person id")]
    public async Task One_bad_line_applies_nothing_and_names_line_column_and_reason(string badLine, string column, string reason)
    {
        var csv = Valid + "\n" + badLine + "\n";

        var result = await ImportAsync(csv);

        Assert.False(result.Applied);
        var error = Assert.Single(result.Errors);
        Assert.Equal(6, error.Line);
        Assert.Equal(column, error.Column);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(0, await RowsAsync());
        Assert.Equal(AuditOutcomes.Rejected, result.AuditOutcome);
    }

    [Fact]
    public async Task Every_error_of_the_file_is_listed_in_line_order()
    {
        var result = await ImportAsync(
            """
            person_id,purpose,status,effective_from
            1,research,granted,2024-01-01
            2,astrology,granted,yesterday
            500,research,granted,2024-01-01
            """);

        Assert.False(result.Applied);
        Assert.Equal(
            [(3, "purpose"), (3, "effective_from"), (4, "person_id")],
            result.Errors.Select(e => (e.Line, e.Column)).ToArray());
        Assert.Equal(0, await RowsAsync());
    }

    [Fact]
    public async Task A_file_without_the_required_columns_is_refused_at_the_header()
    {
        var result = await ImportAsync("person_id,purpose,colour\n1,research,blue\n");

        Assert.False(result.Applied);
        Assert.All(result.Errors, e => Assert.Equal(1, e.Line));
        Assert.Contains(result.Errors, e => e.Column == "colour");
        Assert.Contains(result.Errors, e => e.Column == "status");
        Assert.Contains(result.Errors, e => e.Column == "effective_from");
    }

    [Fact]
    public async Task An_unknown_source_is_refused()
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        var importer = scope.ServiceProvider.GetRequiredService<ConsentImporter>();
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(Valid));

        var result = await importer.ImportAsync("no_such_source", stream, "c.csv", ConsentImporter.AuditAs(AuditActor.Service("test")), "test", _custodian, CancellationToken.None);

        Assert.False(result.Applied);
        Assert.Equal("source", Assert.Single(result.Errors).Column);
    }

    [Fact]
    public async Task The_rows_are_written_under_row_level_security_so_a_session_for_another_tenant_writes_nothing()
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        var importer = scope.ServiceProvider.GetRequiredService<ConsentImporter>();
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(Valid));
        var acme = await fixture.TenantIdAsync("acme");

        var refused = await Assert.ThrowsAsync<PostgresException>(() =>
            importer.ImportAsync(_source, stream, "c.csv", ConsentImporter.AuditAs(AuditActor.Service("test")), "test", acme, CancellationToken.None));

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        Assert.Equal(0, await RowsAsync());
    }
}
