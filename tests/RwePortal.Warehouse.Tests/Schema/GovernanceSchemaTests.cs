using Dapper;
using Npgsql;
using RwePortal.Testing;
using RwePortal.Warehouse.Schema;

namespace RwePortal.Warehouse.Tests.Schema;

public sealed class GovernanceSchemaTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    [Fact]
    public async Task EnsureAsync_creates_gov_consent_once_and_enforces_purpose_and_status()
    {
        await using var connection = new NpgsqlConnection(database.OwnerConnectionString);
        await connection.OpenAsync();

        await GovernanceSchema.EnsureAsync(connection, CancellationToken.None);
        await GovernanceSchema.EnsureAsync(connection, CancellationToken.None);

        var id = await connection.ExecuteScalarAsync<long>(
            """
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by)
            VALUES ('eunomia', 42, 'genomic_research', 'granted', DATE '2024-01-01', 'registry import')
            RETURNING consent_id
            """);
        Assert.True(id > 0);

        var badPurpose = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by) VALUES ('eunomia', 42, 'marketing', 'granted', DATE '2024-01-01', 'x')"));
        Assert.Equal(PostgresErrorCodes.CheckViolation, badPurpose.SqlState);

        var backwards = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, effective_to, recorded_by) VALUES ('eunomia', 42, 'research', 'withdrawn', DATE '2024-01-01', DATE '2023-01-01', 'x')"));
        Assert.Equal(PostgresErrorCodes.CheckViolation, backwards.SqlState);

        var indexed = await connection.ExecuteScalarAsync<string>(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'gov' AND indexname = 'ix_consent_source_purpose_person_from'");
        Assert.Contains("(source, purpose, person_id, effective_from)", indexed, StringComparison.Ordinal);
    }
}
