using Dapper;
using Npgsql;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Privacy;

/// <summary>The noise key the migration makes: one row of 32 bytes, readable by the portal's role, never a second one.</summary>
[Collection(AppCollection.Name)]
public sealed class SmallCellNoiseKeyTests(AppFixture fixture)
{
    [Fact]
    public async Task The_migration_made_one_key_of_32_bytes_and_the_table_holds_no_second_or_shorter_one()
    {
        await using var owner = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        var keys = (await owner.QueryAsync<byte[]>("SELECT key FROM app.small_cell_noise_key")).ToList();

        var key = Assert.Single(keys);
        Assert.Equal(32, key.Length);
        // Random bytes: not all one value, and far from the 16 distinct values of a hex string stored as text.
        Assert.True(key.Distinct().Count() > 16, Convert.ToHexString(key));
        var second = await Assert.ThrowsAsync<PostgresException>(() => owner.ExecuteAsync(
            "INSERT INTO app.small_cell_noise_key (id, key) VALUES (2, @key)", new { key }));
        Assert.Equal(PostgresErrorCodes.CheckViolation, second.SqlState);
        var shorter = await Assert.ThrowsAsync<PostgresException>(() => owner.ExecuteAsync(
            "UPDATE app.small_cell_noise_key SET key = '\\x00'::bytea"));
        Assert.Equal(PostgresErrorCodes.CheckViolation, shorter.SqlState);
    }

    [Fact]
    public async Task The_portal_role_reads_the_key_but_cannot_replace_it()
    {
        await using var app = new NpgsqlConnection(fixture.Database.AppConnectionString);

        Assert.Single(await app.QueryAsync<byte[]>("SELECT key FROM app.small_cell_noise_key"));
        foreach (var write in new[]
        {
            "UPDATE app.small_cell_noise_key SET key = key",
            "DELETE FROM app.small_cell_noise_key",
            "INSERT INTO app.small_cell_noise_key (id, key) VALUES (1, decode(repeat('00', 32), 'hex'))",
        })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => app.ExecuteAsync(write));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
    }
}
