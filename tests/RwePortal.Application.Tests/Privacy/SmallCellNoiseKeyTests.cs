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
}
