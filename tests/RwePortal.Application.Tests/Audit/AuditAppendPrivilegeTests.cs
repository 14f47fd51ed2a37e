using Dapper;
using Npgsql;
using RwePortal.Application.Audit;

namespace RwePortal.Application.Tests.Audit;

/// <summary>
/// Only app.append_audit_event writes the trail: the portal's role can neither insert an event of its own making
/// (a chosen id, a back-dated time, a hash it computed) nor take a lock that an append waits for.
/// </summary>
public sealed class AuditAppendPrivilegeTests(AuditDatabase audit) : IClassFixture<AuditDatabase>
{
    private const string OldAdvisoryLock = "SELECT pg_advisory_xact_lock(hashtext('rweportal.app.audit_event'))";

    private string ConnectionStringOf(string role) =>
        role == "rwe_app" ? audit.Database.AppConnectionString : audit.Database.ReaderConnectionString;

    private Task AppendAsync(string outcome) =>
        audit.Trail.RecordAsync(new AuditActor(Guid.NewGuid(), Guid.NewGuid(), "probe@acme.test"), new AuditRecord(AuditEventTypes.Command, "probe", outcome));

    private static async Task<PostgresException> RefusedAsync(NpgsqlConnection connection, string sql)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        return await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(sql, transaction: transaction));
    }

    [Fact]
    public async Task The_app_role_cannot_insert_a_back_dated_event_with_a_valid_hash_or_a_chosen_id()
    {
        await AppendAsync("Success");
        await using var app = new NpgsqlConnection(audit.Database.AppConnectionString);
        await app.OpenAsync();

        foreach (var sql in new[]
        {
            // A forged event that would verify: chained to the last hash, hashed as the database hashes, dated last year.
            """
            INSERT INTO app.audit_event (id, occurred_at, event_type, target, outcome, details, previous_hash, hash)
            OVERRIDING SYSTEM VALUE
            SELECT last.id + 1, now() - interval '1 year', 'SignIn', 'account', 'Success', '{}', last.hash,
                   sha256(last.hash || app.audit_canonical(last.id + 1, now() - interval '1 year', NULL, NULL, NULL,
                                                           'SignIn', 'account', 'Success', '{}'))
            FROM (SELECT 1::bigint AS id, decode(repeat('00', 32), 'hex') AS hash) AS last
            """,
            // A very high id, which used to block every later append.
            """
            INSERT INTO app.audit_event (id, occurred_at, event_type, outcome, previous_hash, hash)
            OVERRIDING SYSTEM VALUE
            VALUES (9000000000, now(), 'SignIn', 'Success', decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))
            """,
            """
            INSERT INTO app.audit_event (occurred_at, event_type, outcome, previous_hash, hash)
            VALUES (now(), 'SignIn', 'Success', decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'))
            """,
            "SELECT nextval('app.audit_event_id_seq')",
            "SELECT setval('app.audit_event_id_seq', 9000000000)",
        })
        {
            var error = await RefusedAsync(app, sql);
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        }
    }

    [Theory]
    [InlineData("rwe_app")]
    [InlineData("rwe_reader")]
    public async Task A_role_that_does_not_append_can_neither_read_write_nor_lock_the_chain_head(string role)
    {
        await using var connection = new NpgsqlConnection(ConnectionStringOf(role));
        await connection.OpenAsync();

        foreach (var sql in new[]
        {
            "SELECT id, hash FROM app.audit_chain_head",
            "SELECT id FROM app.audit_chain_head FOR UPDATE",
            "LOCK TABLE app.audit_chain_head IN ACCESS SHARE MODE",
            "INSERT INTO app.audit_chain_head (singleton, id, hash) VALUES (false, 0, decode(repeat('00', 32), 'hex'))",
            "UPDATE app.audit_chain_head SET id = 0",
            "DELETE FROM app.audit_chain_head",
            // Locks on the trail itself that would hold back an insert.
            "LOCK TABLE app.audit_event IN SHARE MODE",
            "LOCK TABLE app.audit_event IN ACCESS EXCLUSIVE MODE",
            "SELECT id FROM app.audit_event FOR UPDATE",
        })
        {
            var error = await RefusedAsync(connection, sql);
            Assert.True(error.SqlState == PostgresErrorCodes.InsufficientPrivilege, $"{role}: {sql} gave {error.SqlState} {error.MessageText}");
        }
    }

    [Theory]
    [InlineData("rwe_app")]
    [InlineData("rwe_reader")]
    public async Task A_role_that_does_not_append_cannot_stall_appends_with_the_locks_it_can_take(string role)
    {
        await AppendAsync("Success");
        await using var holder = new NpgsqlConnection(ConnectionStringOf(role));
        await holder.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        // The public advisory key the function used to take, and every lock this role may hold on the trail.
        await holder.ExecuteAsync(OldAdvisoryLock, transaction: transaction);
        await holder.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtext('rweportal.app.audit_chain_head'))", transaction: transaction);
        if (role == "rwe_app")
        {
            await holder.ExecuteAsync("LOCK TABLE app.audit_event IN ACCESS SHARE MODE", transaction: transaction);
            await holder.ExecuteAsync("SELECT count(*) FROM app.audit_event", transaction: transaction);
        }

        var append = AppendAsync("Appended while another session holds locks");
        var first = await Task.WhenAny(append, Task.Delay(TimeSpan.FromSeconds(10)));

        Assert.Same(append, first);
        await append;
        await using var owner = new NpgsqlConnection(audit.Database.OwnerConnectionString);
        Assert.Equal(1, await owner.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM app.audit_event WHERE outcome = 'Appended while another session holds locks' AND id = (SELECT id FROM app.audit_chain_head)"));
    }

    [Fact]
    public async Task The_append_function_runs_as_the_owner_with_a_fixed_search_path_and_sets_id_and_time_itself()
    {
        await using var owner = new NpgsqlConnection(audit.Database.OwnerConnectionString);
        var function = await owner.QuerySingleAsync<(bool SecurityDefiner, string Owner, string[] Config)>(
            """
            SELECT p.prosecdef, pg_get_userbyid(p.proowner), p.proconfig
            FROM pg_proc p
            WHERE p.oid = 'app.append_audit_event(uuid, uuid, text, text, text, text, jsonb)'::regprocedure
            """);
        Assert.True(function.SecurityDefiner);
        Assert.Equal("rwe_owner", function.Owner);
        Assert.Contains("search_path=pg_catalog, pg_temp", function.Config);

        var before = DateTimeOffset.UtcNow.AddSeconds(-5);
        await AppendAsync("Timed");
        var last = await owner.QuerySingleAsync<(long Id, DateTime OccurredAt, long HeadId)>(
            "SELECT e.id, e.occurred_at, h.id FROM app.audit_event e, app.audit_chain_head h ORDER BY e.id DESC LIMIT 1");
        Assert.Equal(last.HeadId, last.Id);
        Assert.InRange(new DateTimeOffset(DateTime.SpecifyKind(last.OccurredAt, DateTimeKind.Utc)), before, DateTimeOffset.UtcNow.AddSeconds(5));
    }
}
