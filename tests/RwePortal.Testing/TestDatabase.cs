using Npgsql;
using Xunit;

namespace RwePortal.Testing;

/// <summary>
/// A fresh PostgreSQL database on the project's private cluster, created for one test class or collection
/// and dropped afterwards. The cluster is started by <c>./rwe test</c> (or <c>./rwe db start</c>), which
/// exports <c>RWE_TEST_ADMIN_CS</c> (owner role, CREATEDB) and the app and reader roles' passwords.
/// </summary>
public sealed class TestDatabase : IAsyncLifetime
{
    private readonly NpgsqlConnectionStringBuilder _admin;

    public TestDatabase()
    {
        var admin = Environment.GetEnvironmentVariable("RWE_TEST_ADMIN_CS");
        if (string.IsNullOrWhiteSpace(admin))
        {
            throw new InvalidOperationException(
                "RWE_TEST_ADMIN_CS is not set: run the tests through ./rwe test, or eval \"$(./rwe db env)\" first.");
        }

        _admin = new NpgsqlConnectionStringBuilder(admin);
        Name = $"rwe_test_{Guid.NewGuid():N}"[..24];
    }

    /// <summary>The database's name (unique per instance).</summary>
    public string Name { get; }

    /// <summary>The owner role: creates schemas and tables, runs migrations and loads.</summary>
    public string OwnerConnectionString => For(_admin.Username!, _admin.Password!);

    /// <summary>The portal's role: not an owner, no BYPASSRLS.</summary>
    public string AppConnectionString => For("rwe_app", Required("RWE_TEST_APP_PASSWORD"));

    /// <summary>The read-only warehouse role used for analysis SQL.</summary>
    public string ReaderConnectionString => For("rwe_reader", Required("RWE_TEST_READER_PASSWORD"));

    public async Task InitializeAsync()
    {
        await using var connection = new NpgsqlConnection(_admin.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{Name}\" OWNER \"{_admin.Username}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_admin.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    private string For(string user, string password) => new NpgsqlConnectionStringBuilder(_admin.ConnectionString)
    {
        Database = Name,
        Username = user,
        Password = password,
        IncludeErrorDetail = true,
    }.ConnectionString;

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests through ./rwe test.");
}
