using Dapper;
using Npgsql;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Tests.Cohorts;

/// <summary>
/// The consent bitmap that subgroup statements read on aggregated sources (gov.consent_bitmap) against the consent filter
/// it replaces on that path (gov.consented_persons, computed from the history): after grants, withdrawals, expired and
/// future-dated records, model changes and a stale bitmap, the persons a subgroup statement counts as consented are
/// exactly the filter's. Neither the reader nor the portal's role can read the bitmap tables.
/// </summary>
[Collection(CohortWarehouseCollection.Name)]
public sealed class ConsentBitmapTests(CohortWarehouseFixture fixture)
{
    private const string Everyone = """{"version": 1, "criteria": []}""";

    /// <summary>Person ids of the test source: small ones, one at a word's last bit, and ids far apart.</summary>
    private static readonly long[] PersonIds = [.. Enumerable.Range(1, 130).Select(i => (long)i), 191, 4_294_967_359, 5_000_000_000];

    private async Task<DataSource> SourceAsync(string name)
    {
        var registry = new DataSourceRegistry(fixture.Owner);
        var source = await registry.FindAsync(name, CancellationToken.None) ?? await registry.AddAsync(name, "consent bitmap test", CancellationToken.None);
        await fixture.OwnerSqlAsync(
            $"""
             INSERT INTO cdm_{name}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
             SELECT id, 8507, 1970, 0, 0 FROM unnest(@ids) id ON CONFLICT DO NOTHING
             """,
            new { ids = PersonIds });
        // Aggregated, so statements take the body that reads the bitmap (the other body joins the filter itself).
        await using (var connection = await fixture.Owner.OpenConnectionAsync())
        {
            await SubgroupAggregates.RebuildAsync(connection, source.SchemaName, CancellationToken.None);
        }

        Assert.Equal(1, await fixture.OwnerCountAsync(
            "SELECT count(*) FROM gov.warehouse_aggregates WHERE schema_name = @schema AND fresh", new { schema = source.SchemaName }));
        return source;
    }

    /// <summary>The members a subgroup statement returns (every person, consented) against the filter, as the reader.</summary>
    private async Task AssertSameAsFilterAsync(DataSource source, string purpose)
    {
        var definition = CohortWarehouseFixture.Definition(Everyone);
        var members = SubgroupCompiler.CompileMembers(definition, source.SchemaName, source.Name, purpose);
        await using var connection = await fixture.Reader.OpenAsync(CancellationToken.None);
        var parameters = new DynamicParameters();
        foreach (var parameter in members.Parameters)
        {
            parameters.Add(parameter.Name, parameter.Value);
        }

        var fromStatement = (await connection.QueryAsync<long>(members.Sql, parameters)).Order().ToList();
        var fromFilter = (await connection.QueryAsync<long>(
            $"SELECT p.person_id FROM cdm_{source.Name}.person p JOIN gov.consented_persons(@source, @purpose) c ON c.person_id = p.person_id ORDER BY 1",
            new { source = source.Name, purpose })).ToList();
        Assert.Equal(fromFilter, fromStatement);
        var count = await fixture.CountAsync(source, Everyone, purpose);
        Assert.Equal(fromFilter.Count, count.Count);
    }

    private Task RecordAsync(string source, long person, string status, string from, string? to = null, string purpose = "research") =>
        fixture.OwnerSqlAsync(
            $"INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, effective_to, recorded_by) VALUES (@source, @person, @purpose, @status, {from}, {to ?? "NULL"}, 'test')",
            new { source, person, purpose, status });

    [Fact]
    public async Task Grants_withdrawals_expiry_and_future_records_under_opt_in_are_the_filters_persons()
    {
        var source = await SourceAsync("bmin");
        await fixture.OwnerSqlAsync("SELECT gov.refresh_consent_bitmaps('bmin', false)");
        await AssertSameAsFilterAsync(source, "research");

        // One statement, many persons: the bits of the new records' persons are replaced.
        await fixture.OwnerSqlAsync(
            "INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by) SELECT 'bmin', id, 'research', 'granted', current_date - 100, 'test' FROM unnest(@ids) id",
            new { ids = PersonIds.Where(id => id % 3 != 0).ToArray() });
        await AssertSameAsFilterAsync(source, "research");
        await RecordAsync("bmin", 1, "withdrawn", "current_date");
        await RecordAsync("bmin", 63, "withdrawn", "current_date - 1");
        await RecordAsync("bmin", 64, "granted", "current_date - 30", "current_date - 1");
        await RecordAsync("bmin", 5_000_000_000, "withdrawn", "current_date");
        await RecordAsync("bmin", 4_294_967_359, "granted", "current_date - 5", "current_date + 20");
        await AssertSameAsFilterAsync(source, "research");

        // A withdrawal recorded today that takes effect in ten days: consented today; the bitmap expires that day.
        await RecordAsync("bmin", 2, "withdrawn", "current_date + 10");
        await AssertSameAsFilterAsync(source, "research");
        Assert.Equal(1, await fixture.OwnerCountAsync(
            "SELECT count(*) FROM gov.consent_bitmap_state WHERE source = 'bmin' AND purpose = 'research' AND as_of = current_date AND valid_until = current_date + 10"));
        Assert.Equal(1, await fixture.OwnerCountAsync("SELECT count(*) FROM gov.consented_persons('bmin', 'research') WHERE person_id = 2"));
        // Another purpose is untouched.
        await AssertSameAsFilterAsync(source, "recontact");
    }

    [Fact]
    public async Task Model_changes_rebuild_the_bitmap_and_opt_out_and_waiver_count_everyone_but_withdrawals()
    {
        var source = await SourceAsync("bmmodel");
        await RecordAsync("bmmodel", 5, "granted", "current_date - 10");
        await RecordAsync("bmmodel", 6, "withdrawn", "current_date - 10");
        await RecordAsync("bmmodel", 5_000_000_000, "withdrawn", "current_date - 2");
        await fixture.OwnerSqlAsync("SELECT gov.refresh_consent_bitmaps('bmmodel', false)");
        await AssertSameAsFilterAsync(source, "research");

        foreach (var (model, reference) in new[] { ("opt_out", (string?)null), ("waiver", "IRB-BM-1"), ("opt_in", null) })
        {
            await fixture.OwnerSqlAsync(
                "INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('bmmodel', 'research', @model, @reference, 'test')",
                new { model, reference });
            await AssertSameAsFilterAsync(source, "research");
            await RecordAsync("bmmodel", 7, model == "opt_in" ? "granted" : "withdrawn", "current_date");
            await AssertSameAsFilterAsync(source, "research");
        }

        var everyone = await fixture.OwnerCountAsync("SELECT count(*) FROM cdm_bmmodel.person");
        Assert.True(everyone > 100);

        // Removing the models (an operator's correction) makes the pair opt-in again: the bitmap follows.
        await fixture.OwnerSqlAsync(
            "INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('bmmodel', 'research', 'waiver', 'IRB-BM-2', 'test')");
        await AssertSameAsFilterAsync(source, "research");
        await fixture.OwnerSqlAsync("DELETE FROM gov.consent_model WHERE source = 'bmmodel' AND purpose = 'research'");
        await AssertSameAsFilterAsync(source, "research");
        Assert.True(await fixture.OwnerCountAsync("SELECT count(*) FROM gov.consent_bitmap_state WHERE source = 'bmmodel' AND purpose = 'research' AND NOT exclude") == 1);
    }

    [Fact]
    public async Task A_stale_or_missing_bitmap_is_never_read_and_the_history_answers()
    {
        var source = await SourceAsync("bmstale");
        await RecordAsync("bmstale", 10, "granted", "current_date - 3");
        await RecordAsync("bmstale", 11, "granted", "current_date - 3");
        await fixture.OwnerSqlAsync("SELECT gov.refresh_consent_bitmaps('bmstale', false)");

        // Corrupt the stored bits, then make them invalid today: judged on a later day (a clock set back), or past the
        // day on which a record starts or ends. The filter must not use them.
        await fixture.OwnerSqlAsync("UPDATE gov.consent_bitmap SET bits = -1 WHERE source = 'bmstale'");
        await fixture.OwnerSqlAsync("UPDATE gov.consent_bitmap_state SET as_of = current_date + 1 WHERE source = 'bmstale'");
        await AssertSameAsFilterAsync(source, "research");
        await fixture.OwnerSqlAsync("UPDATE gov.consent_bitmap_state SET as_of = current_date - 5, valid_until = current_date WHERE source = 'bmstale'");
        await AssertSameAsFilterAsync(source, "research");
        await fixture.OwnerSqlAsync("DELETE FROM gov.consent_bitmap_state WHERE source = 'bmstale'");
        await AssertSameAsFilterAsync(source, "research");

        // A consent change on a stale bitmap rebuilds it whole, judged today.
        await fixture.OwnerSqlAsync("SELECT gov.refresh_consent_bitmaps('bmstale', false)");
        await fixture.OwnerSqlAsync("UPDATE gov.consent_bitmap_state SET as_of = current_date - 1 WHERE source = 'bmstale'");
        await RecordAsync("bmstale", 12, "granted", "current_date");
        Assert.Equal(1, await fixture.OwnerCountAsync("SELECT count(*) FROM gov.consent_bitmap_state WHERE source = 'bmstale' AND purpose = 'research' AND as_of = current_date"));
        Assert.Equal(0, await fixture.OwnerCountAsync("SELECT count(*) FROM gov.consent_bitmap WHERE source = 'bmstale' AND bits = -1"));
        await AssertSameAsFilterAsync(source, "research");
    }

    [Theory]
    [InlineData("reader")]
    [InlineData("app")]
    public async Task Neither_the_reader_nor_the_portal_role_reads_the_bitmap_tables(string role)
    {
        var connectionString = role == "reader" ? fixture.Database.ReaderConnectionString : fixture.Database.AppConnectionString;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var table in new[] { "gov.consent_bitmap", "gov.consent_bitmap_state" })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}"));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        }

        var rebuild = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync("SELECT gov.rebuild_consent_bitmap('syn', 'research')"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, rebuild.SqlState);
    }
}
