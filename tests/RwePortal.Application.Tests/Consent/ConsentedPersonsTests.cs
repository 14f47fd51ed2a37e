using Dapper;
using Npgsql;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Consent;

/// <summary>The semantics of gov.consented_persons and gov.consent_status on hand-made rows (db/gov/consent_registry.sql).</summary>
[Collection(AppCollection.Name)]
public sealed class ConsentedPersonsTests(AppFixture fixture)
{
    private string Owner => fixture.Database.OwnerConnectionString;

    private string Reader => fixture.Database.ReaderConnectionString;

    private static string NewSource() => "fn_" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_grant_counts_from_its_effective_date_and_not_before()
    {
        var source = NewSource();
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "research", "granted", "2024-03-01");

        Assert.Equal("", await ConsentTestSources.ConsentedAsync(Reader, source, "research", "2024-02-29"));
        Assert.Equal("1", await ConsentTestSources.ConsentedAsync(Reader, source, "research", "2024-03-01"));
        Assert.Equal("1", await ConsentTestSources.ConsentedAsync(Reader, source, "research", "2030-01-01"));
    }

    [Fact]
    public async Task A_later_withdrawal_wins_over_the_earlier_grant_from_its_effective_date()
    {
        var source = NewSource();
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "research", "granted", "2024-01-01");
        await ConsentTestSources.AddConsentAsync(Owner, source, 2, "research", "granted", "2024-01-01");
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "research", "withdrawn", "2024-06-01");

        Assert.Equal("1,2", await ConsentTestSources.ConsentedAsync(Reader, source, "research", "2024-05-31"));
        Assert.Equal("2", await ConsentTestSources.ConsentedAsync(Reader, source, "research", "2024-06-01"));
    }

    [Fact]
    public async Task A_grant_after_a_withdrawal_restores_consent_and_a_same_day_record_recorded_later_wins()
    {
        var source = NewSource();
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "research", "granted", "2024-01-01");
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "research", "withdrawn", "2024-02-01");
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "research", "granted", "2024-03-01");
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "research", "withdrawn", "2024-03-01");

        Assert.Equal("", await ConsentTestSources.ConsentedAsync(Reader, source, "research", "2024-02-15"));
        Assert.Equal("", await ConsentTestSources.ConsentedAsync(Reader, source, "research", "2024-03-01"));

        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "research", "granted", "2024-03-01");
        Assert.Equal("1", await ConsentTestSources.ConsentedAsync(Reader, source, "research", "2024-03-01"));
    }

    [Fact]
    public async Task Effective_to_bounds_a_grant_inclusively()
    {
        var source = NewSource();
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "research", "granted", "2024-01-01", "2024-12-31");

        Assert.Equal("1", await ConsentTestSources.ConsentedAsync(Reader, source, "research", "2024-12-31"));
        Assert.Equal("", await ConsentTestSources.ConsentedAsync(Reader, source, "research", "2025-01-01"));
    }

    [Fact]
    public async Task Purposes_are_independent()
    {
        var source = NewSource();
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "research", "granted", "2024-01-01");
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "genomic_research", "withdrawn", "2024-01-01");
        await ConsentTestSources.AddConsentAsync(Owner, source, 2, "genomic_research", "granted", "2024-01-01");

        Assert.Equal("1", await ConsentTestSources.ConsentedAsync(Reader, source, "research", "2024-06-01"));
        Assert.Equal("2", await ConsentTestSources.ConsentedAsync(Reader, source, "genomic_research", "2024-06-01"));
        Assert.Equal("", await ConsentTestSources.ConsentedAsync(Reader, source, "recontact", "2024-06-01"));
    }

    [Fact]
    public async Task Sources_are_independent_even_for_the_same_person_id()
    {
        var first = NewSource();
        var second = NewSource();
        await ConsentTestSources.AddConsentAsync(Owner, first, 7, "research", "granted", "2024-01-01");
        await ConsentTestSources.AddConsentAsync(Owner, second, 7, "research", "withdrawn", "2024-01-01");

        Assert.Equal("7", await ConsentTestSources.ConsentedAsync(Reader, first, "research", "2024-06-01"));
        Assert.Equal("", await ConsentTestSources.ConsentedAsync(Reader, second, "research", "2024-06-01"));
    }

    [Fact]
    public async Task Consent_status_gives_each_purpose_by_the_same_rule()
    {
        var source = NewSource();
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "research", "granted", "2024-01-01");
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "genomic_research", "granted", "2024-01-01");
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "genomic_research", "withdrawn", "2024-05-01");
        await ConsentTestSources.AddConsentAsync(Owner, source, 1, "wearable_research", "granted", "2024-01-01", "2024-02-01");

        await using var connection = new NpgsqlConnection(fixture.Database.AppConnectionString);
        var rows = (await connection.QueryAsync<(string Purpose, string Status, bool Consented)>(
            "SELECT purpose, status, consented FROM gov.consent_status(@source, 1, DATE '2024-06-01')", new { source }))
            .ToDictionary(r => r.Purpose);

        Assert.Equal(("granted", true), (rows["research"].Status, rows["research"].Consented));
        Assert.Equal(("withdrawn", false), (rows["genomic_research"].Status, rows["genomic_research"].Consented));
        Assert.Equal(("expired", false), (rows["wearable_research"].Status, rows["wearable_research"].Consented));
        Assert.Equal(("none", false), (rows["recontact"].Status, rows["recontact"].Consented));
    }

    [Fact]
    public async Task The_planner_inlines_the_filter_into_the_cohort_query()
    {
        await using var connection = new NpgsqlConnection(Reader);
        var plan = string.Join("\n", await connection.QueryAsync<string>(
            "EXPLAIN SELECT count(*) FROM gov.consented_persons('any', 'research', DATE '2024-01-01')"));

        Assert.DoesNotContain("Function Scan", plan, StringComparison.Ordinal);
        Assert.Contains("consent", plan, StringComparison.Ordinal);
    }
}
