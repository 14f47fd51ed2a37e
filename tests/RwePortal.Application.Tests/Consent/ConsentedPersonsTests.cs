using Dapper;
using Npgsql;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Consent;

/// <summary>
/// The semantics of the consent filter gov.consented_persons(source, purpose) and of gov.consent_status on hand-made
/// rows (db/gov/consent_registry.sql, docs/consent.md): the latest recorded decision whose effective date has come,
/// judged on the server's today, under the source's consent model. Asked as the warehouse role, as cohort SQL is.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class ConsentedPersonsTests(AppFixture fixture) : IAsyncLifetime
{
    private readonly string _source = "fn_" + Guid.NewGuid().ToString("N")[..10];

    private string Owner => fixture.Database.OwnerConnectionString;

    private string Reader => fixture.Database.ReaderConnectionString;

    public Task InitializeAsync() => ConsentTestSources.CreateAsync(Owner, _source, 20);

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<string> ConsentedAsync(string purpose = "research") => ConsentTestSources.ConsentedAsync(Reader, _source, purpose);

    private Task AddAsync(long person, string status, string from, string? to = null, string recordedAt = "now()", string purpose = "research") =>
        ConsentTestSources.AddConsentAsync(Owner, _source, person, purpose, status, from, to, recordedAt);

    private async Task<long> ExcludedAsync(string purpose = "research")
    {
        await using var connection = new NpgsqlConnection(Reader);
        return await connection.ExecuteScalarAsync<long>("SELECT gov.consent_excluded_count(@source, @purpose)", new { source = _source, purpose });
    }

    [Fact]
    public async Task A_grant_counts_once_its_effective_date_has_come_and_not_before()
    {
        await AddAsync(1, "granted", "current_date - 1");
        await AddAsync(2, "granted", "current_date");
        await AddAsync(3, "granted", "current_date + 1");

        Assert.Equal("1,2", await ConsentedAsync());
    }

    [Fact]
    public async Task The_latest_recorded_decision_wins_whatever_the_order_of_the_effective_dates()
    {
        // Person 1: granted from 2024, then a withdrawal recorded later that is dated back to 2023.
        await AddAsync(1, "granted", "2024-01-01", recordedAt: "TIMESTAMPTZ '2024-01-02 10:00Z'");
        await AddAsync(1, "withdrawn", "2023-06-01", recordedAt: "TIMESTAMPTZ '2024-05-01 10:00Z'");
        // Person 2: withdrawn in 2024, then a grant recorded later with an earlier effective date.
        await AddAsync(2, "withdrawn", "2024-03-01", recordedAt: "TIMESTAMPTZ '2024-03-02 10:00Z'");
        await AddAsync(2, "granted", "2024-01-01", recordedAt: "TIMESTAMPTZ '2024-04-01 10:00Z'");

        Assert.Equal("2", await ConsentedAsync());
    }

    [Fact]
    public async Task Records_of_the_same_instant_are_ordered_by_their_id()
    {
        await AddAsync(1, "withdrawn", "2024-01-01", recordedAt: "TIMESTAMPTZ '2024-02-01 10:00Z'");
        await AddAsync(1, "granted", "2024-01-01", recordedAt: "TIMESTAMPTZ '2024-02-01 10:00Z'");
        await AddAsync(2, "granted", "2024-01-01", recordedAt: "TIMESTAMPTZ '2024-02-01 10:00Z'");
        await AddAsync(2, "withdrawn", "2024-01-01", recordedAt: "TIMESTAMPTZ '2024-02-01 10:00Z'");

        Assert.Equal("1", await ConsentedAsync());
    }

    [Fact]
    public async Task A_decision_dated_in_the_future_leaves_the_one_in_force_until_its_date()
    {
        await AddAsync(1, "granted", "2024-01-01");
        await AddAsync(1, "withdrawn", "current_date + 10");

        Assert.Equal("1", await ConsentedAsync());
    }

    [Fact]
    public async Task A_withdrawal_recorded_today_removes_the_person_from_every_query_from_today()
    {
        await AddAsync(1, "granted", "2020-01-01");
        await AddAsync(2, "granted", "2020-01-01");
        Assert.Equal("1,2", await ConsentedAsync());

        await AddAsync(1, "withdrawn", "current_date");

        Assert.Equal("2", await ConsentedAsync());
        Assert.Equal(19, await ExcludedAsync());
    }

    [Fact]
    public async Task A_grant_whose_end_date_has_passed_has_expired_and_one_ending_today_still_counts()
    {
        await AddAsync(1, "granted", "2024-01-01", to: "current_date - 1");
        await AddAsync(2, "granted", "2024-01-01", to: "current_date");

        Assert.Equal("2", await ConsentedAsync());
    }

    [Fact]
    public async Task Purposes_are_independent()
    {
        await AddAsync(1, "granted", "2024-01-01");
        await AddAsync(1, "withdrawn", "2024-01-01", purpose: "genomic_research");
        await AddAsync(2, "granted", "2024-01-01", purpose: "genomic_research");

        Assert.Equal("1", await ConsentedAsync("research"));
        Assert.Equal("2", await ConsentedAsync("genomic_research"));
        Assert.Equal("", await ConsentedAsync("recontact"));
    }

    [Fact]
    public async Task Opt_in_counts_the_grants_opt_out_everyone_not_withdrawn_and_a_waiver_everyone_not_withdrawn()
    {
        await AddAsync(1, "granted", "2024-01-01");
        await AddAsync(2, "granted", "2024-01-01");
        await AddAsync(3, "granted", "2024-01-01", to: "2024-06-30");
        await AddAsync(4, "withdrawn", "2024-01-01");

        Assert.Equal("1,2", await ConsentedAsync());
        Assert.Equal(18, await ExcludedAsync());

        await ConsentTestSources.SetModelAsync(Owner, _source, "research", "opt_out");
        Assert.Equal(string.Join(',', Enumerable.Range(1, 20).Where(p => p != 4)), await ConsentedAsync());
        Assert.Equal(1, await ExcludedAsync());

        await ConsentTestSources.SetModelAsync(Owner, _source, "research", "waiver", "IRB-2024-117");
        Assert.Equal(string.Join(',', Enumerable.Range(1, 20).Where(p => p != 4)), await ConsentedAsync());
        Assert.Equal("", await ConsentedAsync("genomic_research"));

        // A purpose under a waiver with no records counts everyone; other purposes keep opt-in.
        await ConsentTestSources.SetModelAsync(Owner, _source, "recontact", "waiver", "public synthetic sample");
        Assert.Equal(20, (await ConsentedAsync("recontact")).Split(',').Length);
        Assert.Equal(0, await ExcludedAsync("recontact"));
        Assert.Equal("", await ConsentedAsync("wearable_research"));
        Assert.Equal(20, await ExcludedAsync("wearable_research"));
    }

    [Fact]
    public async Task The_latest_model_is_in_force_and_a_waiver_without_its_reference_is_refused()
    {
        await ConsentTestSources.SetModelAsync(Owner, _source, "research", "opt_out");
        await ConsentTestSources.SetModelAsync(Owner, _source, "research", "opt_in");

        Assert.Equal("", await ConsentedAsync());
        var noReference = await Assert.ThrowsAsync<PostgresException>(() =>
            ConsentTestSources.SetModelAsync(Owner, _source, "research", "waiver", " "));
        Assert.Equal(PostgresErrorCodes.CheckViolation, noReference.SqlState);
    }

    [Fact]
    public async Task Consent_status_gives_each_purpose_by_the_same_rule_and_model()
    {
        await AddAsync(1, "granted", "2024-01-01");
        await AddAsync(1, "granted", "2024-01-01", purpose: "genomic_research");
        await AddAsync(1, "withdrawn", "2024-05-01", purpose: "genomic_research");
        await AddAsync(1, "granted", "2024-01-01", to: "2024-02-01", purpose: "wearable_research");
        await ConsentTestSources.SetModelAsync(Owner, _source, "recontact", "opt_out");

        await using var connection = new NpgsqlConnection(Owner);
        var rows = (await connection.QueryAsync<(string Purpose, string Status, string Model, bool Consented)>(
            "SELECT purpose, status, model, consented FROM gov.consent_status(@source, 1)", new { source = _source }))
            .ToDictionary(r => r.Purpose);

        Assert.Equal(("granted", true), (rows["research"].Status, rows["research"].Consented));
        Assert.Equal(("withdrawn", false), (rows["genomic_research"].Status, rows["genomic_research"].Consented));
        Assert.Equal(("expired", false), (rows["wearable_research"].Status, rows["wearable_research"].Consented));
        Assert.Equal(("none", "opt_out", true), (rows["recontact"].Status, rows["recontact"].Model, rows["recontact"].Consented));
    }

    [Fact]
    public async Task The_filter_takes_no_date_a_dated_variant_does_not_exist()
    {
        await using var connection = new NpgsqlConnection(Reader);

        var dated = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM gov.consented_persons(@source, 'research', DATE '2000-01-01')", new { source = _source }));
        var latest = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM gov.latest_consent(@source, 'research', DATE '2000-01-01')", new { source = _source }));

        Assert.Equal(PostgresErrorCodes.UndefinedFunction, dated.SqlState);
        Assert.Equal(PostgresErrorCodes.UndefinedFunction, latest.SqlState);
    }
}
