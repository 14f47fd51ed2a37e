using Npgsql;
using RwePortal.Cli.Infrastructure;
using RwePortal.Cli.Tests.Support;
using RwePortal.Testing;

namespace RwePortal.Cli.Tests.Infrastructure;

/// <summary>Commands that need the app schema, run on a database nobody migrated, say so in one line.</summary>
public sealed class DatabaseErrorsTests : IAsyncLifetime
{
    private readonly TestDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    private static string CliDll => Path.Combine(Shell.Root, "src", "RwePortal.Cli", "bin", Shell.Configuration, "net10.0", "rwe.dll");

    private Task<ShellResult> Cli(params string[] arguments) => Shell.RunAsync(
        "dotnet",
        [CliDll, .. arguments],
        new Dictionary<string, string?> { ["RWE_CS_OWNER"] = _database.OwnerConnectionString, ["ConnectionStrings__Owner"] = null });

    [Theory]
    [InlineData("seed-demo")]
    [InlineData("audit verify")]
    public async Task A_command_on_an_unmigrated_database_prints_one_line_and_fails(string commandLine)
    {
        var result = await Cli(commandLine.Split(' '));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal(["the database is not migrated: run ./rwe demo or ./rwe migrate"], result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("   at ", result.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consent_import_on_an_unmigrated_database_prints_one_line_and_fails()
    {
        var file = Path.Combine(Path.GetTempPath(), $"consent-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(file, "person_id,purpose,status,effective_from\n1,research,granted,2024-01-01\n");
        try
        {
            var result = await Cli("consent", "import", "--source", "synthetic", file);

            Assert.NotEqual(0, result.ExitCode);
            Assert.Equal(["the database is not migrated: run ./rwe demo or ./rwe migrate"], result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("SELECT * FROM app.tenants", true)]
    [InlineData("SET search_path = app; CREATE TABLE gov.x (id int)", true)]
    [InlineData("SELECT * FROM cdm_nowhere.person", false)]
    [InlineData("SELECT * FROM public.no_such_table", false)]
    public async Task Only_a_missing_app_or_gov_object_counts_as_not_migrated(string sql, bool notMigrated)
    {
        await using var connection = new NpgsqlConnection(_database.OwnerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);

        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());

        Assert.Equal(notMigrated, DatabaseErrors.IsNotMigrated(new InvalidOperationException("wrapped", error)));
    }
}
