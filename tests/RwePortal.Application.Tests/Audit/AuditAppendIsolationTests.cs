using System.Data;
using Npgsql;
using RwePortal.Application.Audit;

namespace RwePortal.Application.Tests.Audit;

/// <summary>
/// An audited change appends inside its own transaction, whatever its isolation level: the event commits or rolls back
/// with it, and a transaction whose snapshot predates another append is refused (retry) instead of forking the chain.
/// </summary>
public sealed class AuditAppendIsolationTests(AuditDatabase audit) : IClassFixture<AuditDatabase>
{
    private static readonly AuditActor Actor = new(Guid.NewGuid(), null, "writer@acme.test");

    private async Task<NpgsqlConnection> AppAsync()
    {
        var app = new NpgsqlConnection(audit.Database.AppConnectionString);
        await app.OpenAsync();
        return app;
    }

    private static Task<long> AppendAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string target) =>
        AuditLog.AppendAsync(connection, transaction, Actor, new AuditRecord(AuditEventTypes.Command, target, AuditOutcomes.Success), CancellationToken.None);

    private async Task<AuditChainReport> VerifyAsync()
    {
        await using var owner = new NpgsqlConnection(audit.Database.OwnerConnectionString);
        await owner.OpenAsync();
        return await AuditChain.VerifyAsync(owner, CancellationToken.None);
    }

    [Fact]
    public async Task A_rolled_back_append_leaves_neither_event_nor_head_behind()
    {
        await using var app = await AppAsync();
        await AppendAsync(app, null, "kept");
        var before = (await VerifyAsync()).Head;

        await using (var transaction = await app.BeginTransactionAsync())
        {
            await AppendAsync(app, transaction, "rolled back");
            await transaction.RollbackAsync();
        }

        await AppendAsync(app, null, "after the rollback");
        var after = await VerifyAsync();
        Assert.True(after.Intact, after.FirstBreak?.Reason ?? after.HeadMismatch);
        Assert.True(after.Head!.Id > before!.Id);
    }

    [Theory]
    [InlineData(IsolationLevel.RepeatableRead)]
    [InlineData(IsolationLevel.Serializable)]
    public async Task Under_snapshot_isolation_an_append_commits_or_fails_to_serialize_never_forks(IsolationLevel isolation)
    {
        await using var stale = await AppAsync();
        await using var other = await AppAsync();

        await using (var transaction = await stale.BeginTransactionAsync(isolation))
        {
            await AppendAsync(stale, transaction, "own snapshot");
            await transaction.CommitAsync();
        }

        await using (var transaction = await stale.BeginTransactionAsync(isolation))
        {
            await using (var snapshot = new NpgsqlCommand("SELECT 1", stale, transaction))
            {
                await snapshot.ExecuteScalarAsync();
            }

            await AppendAsync(other, null, "committed after the snapshot");
            var error = await Assert.ThrowsAsync<PostgresException>(() => AppendAsync(stale, transaction, "stale snapshot"));
            Assert.Equal(PostgresErrorCodes.SerializationFailure, error.SqlState);
        }

        var report = await VerifyAsync();
        Assert.True(report.Intact, report.FirstBreak?.Reason ?? report.HeadMismatch);
    }
}
