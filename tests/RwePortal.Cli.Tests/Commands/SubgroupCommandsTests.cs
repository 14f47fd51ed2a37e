using System.Text.Json;
using Dapper;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Cli.Commands;
using RwePortal.Cli.Infrastructure;
using RwePortal.Cli.Tests.Support;
using RwePortal.Testing;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Cli.Tests.Commands;

/// <summary>
/// <c>rwe subgroup count|sql</c> as a user runs them: the built CLI against a migrated database with a small source
/// (30 persons: 1–20 have condition 192671, 1–5 are women, person 2 withdrew from research).
/// </summary>
public sealed class SubgroupCliFixture : IAsyncLifetime
{
    public const string Source = "cli_sub";
    private readonly TestDatabase _database = new();

    public TestDatabase Database => _database;

    public string Folder { get; } = Directory.CreateTempSubdirectory("rwe-subgroup-").FullName;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await AppMigrator.MigrateAsync(_database.OwnerConnectionString);
        await using var dataSource = NpgsqlDataSource.Create(_database.OwnerConnectionString);
        await new DataSourceRegistry(dataSource).AddAsync(Source, "subgroup command test source", CancellationToken.None);
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO cdm_{Source}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
            SELECT g, CASE WHEN g <= 5 THEN 8532 ELSE 8507 END, 1960, 0, 0 FROM generate_series(1, 30) g;
            INSERT INTO cdm_{Source}.condition_occurrence (condition_occurrence_id, person_id, condition_concept_id, condition_start_date, condition_type_concept_id)
            SELECT g, g, 192671, DATE '2020-01-01', 32817 FROM generate_series(1, 20) g;
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('{Source}', 'research', 'waiver', 'IRB-CLI-1', 'test');
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by)
            VALUES ('{Source}', 2, 'research', 'withdrawn', current_date - 1, 'test');
            """);
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        // The CLI's reader sessions end with its process, but the server may take a moment to see them go; the owner
        // may not terminate another role's session, so wait for them before the database is dropped.
        await using (var connection = new NpgsqlConnection(_database.OwnerConnectionString))
        {
            await connection.OpenAsync();
            for (var attempt = 0; attempt < 100; attempt++)
            {
                await using var sessions = new NpgsqlCommand(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", connection);
                if ((long)(await sessions.ExecuteScalarAsync())! == 0)
                {
                    break;
                }

                await Task.Delay(50);
            }
        }

        await _database.DisposeAsync();
    }

}

/// <summary><c>rwe subgroup count|sql</c> as a user runs them, on <see cref="SubgroupCliFixture"/>'s source.</summary>
public sealed class SubgroupCommandsTests(SubgroupCliFixture fixture) : IClassFixture<SubgroupCliFixture>
{
    private const string Source = SubgroupCliFixture.Source;
    private readonly TestDatabase _database = fixture.Database;
    private readonly string _folder = fixture.Folder;

    private string Definition(string json)
    {
        var path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    private Task<ShellResult> Rwe(params string[] arguments) => Shell.RunAsync(
        "dotnet",
        [Path.Combine(Shell.Root, "src", "RwePortal.Cli", "bin", Shell.Configuration, "net10.0", "rwe.dll"), .. arguments],
        new Dictionary<string, string?>
        {
            ["RWE_CS_OWNER"] = _database.OwnerConnectionString,
            ["RWE_CS_READER"] = _database.ReaderConnectionString,
            ["ConnectionStrings__Owner"] = null,
            ["ConnectionStrings__Warehouse"] = null,
        },
        TimeSpan.FromMinutes(2));

    private const string Bleeds = """{"version": 1, "criteria": [{"kind": "condition", "label": "GI bleed", "concepts": [{"id": 192671}]}]}""";
    private const string BleedingWomen = """{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 192671}]}, {"kind": "sex", "label": "women", "concepts": [8532]}]}""";

    [Theory]
    [InlineData("subgroup count --source s --definition d.json")]
    [InlineData("subgroup count --source s --definition d.json --purpose recontact --exact --json")]
    [InlineData("subgroup sql --source s --definition d.json")]
    public void Subgroup_commands_need_the_database(string commandLine)
    {
        Assert.True(DatabaseRequirement.Needs(CliRoot.Create(), commandLine.Split(' ')));
    }

    [Fact]
    public async Task Count_prints_the_count_the_consent_removal_and_the_attrition()
    {
        var result = await Rwe("subgroup", "count", "--source", Source, "--definition", Definition(Bleeds));

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("count: 19", result.Output, StringComparison.Ordinal);
        Assert.Contains("removed by consent: <11", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"all persons, consented\s+29", result.Output);
        Assert.Matches(@"GI bleed\s+19", result.Output);
    }

    [Fact]
    public async Task Small_counts_print_as_below_11_unless_exact()
    {
        var file = Definition(BleedingWomen);

        var shown = await Rwe("subgroup", "count", "--source", Source, "--definition", file);
        var exact = await Rwe("subgroup", "count", "--source", Source, "--definition", file, "--exact");
        var json = await Rwe("subgroup", "count", "--source", Source, "--definition", file, "--json");

        Assert.Contains("count: <11", shown.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("count: 4", shown.Output, StringComparison.Ordinal);
        Assert.Contains("count: 4", exact.Output, StringComparison.Ordinal);
        Assert.Contains("removed by consent: 1", exact.Output, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(json.Output);
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("count").ValueKind);
        Assert.Equal("<11", document.RootElement.GetProperty("countShown").GetString());
        Assert.Equal(19, document.RootElement.GetProperty("attrition")[1].GetProperty("remaining").GetInt64());
        Assert.Equal("women", document.RootElement.GetProperty("attrition")[2].GetProperty("step").GetString());
    }

    [Fact]
    public async Task Every_count_is_on_the_audit_trail_with_its_statement_hash_purpose_rows_and_exactness()
    {
        var file = Definition(BleedingWomen);

        var result = await Rwe("subgroup", "count", "--source", Source, "--definition", file, "--exact");

        Assert.True(result.ExitCode == 0, result.All);
        await using var owner = new NpgsqlConnection(_database.OwnerConnectionString);
        var details = await owner.QuerySingleAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE event_type = 'WarehouseQuery' AND user_email LIKE 'cli:%' ORDER BY id DESC LIMIT 1");
        using var document = JsonDocument.Parse(details);
        Assert.Matches("^[0-9a-f]{64}$", document.RootElement.GetProperty("sql_sha256").GetString());
        Assert.Equal(Source, document.RootElement.GetProperty("source").GetString());
        Assert.Equal("research", document.RootElement.GetProperty("purpose").GetString());
        Assert.Equal(4, document.RootElement.GetProperty("rows").GetInt64());
        Assert.True(document.RootElement.GetProperty("exact").GetBoolean());
        Assert.Equal(JsonValueKind.Object, document.RootElement.GetProperty("parameters").ValueKind);
    }

    [Fact]
    public async Task An_opt_in_purpose_without_grants_counts_nobody()
    {
        var result = await Rwe("subgroup", "count", "--source", Source, "--definition", Definition(Bleeds), "--purpose", "recontact", "--exact");

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("count: 0", result.Output, StringComparison.Ordinal);
        Assert.Contains("removed by consent: 20", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sql_prints_one_statement_with_the_consent_filter_and_its_parameters()
    {
        var result = await Rwe("subgroup", "sql", "--source", Source, "--definition", Definition(BleedingWomen));

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("gov.consented_persons(@source, @purpose)", result.Output, StringComparison.Ordinal);
        Assert.Contains("--   @source = \"cli_sub\"", result.Output, StringComparison.Ordinal);
        Assert.Contains("--   @purpose = \"research\"", result.Output, StringComparison.Ordinal);
        Assert.Contains("{8532} (integer[])", result.Output, StringComparison.Ordinal);
        Assert.Contains("\"cdm_cli_sub\".condition_occurrence", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_definition_is_refused_with_the_node_path_and_nothing_runs()
    {
        var result = await Rwe("subgroup", "count", "--source", Source, "--definition",
            Definition("""{"version": 1, "criteria": [{"any": [{"kind": "condition", "concepts": [{"id": 192671}], "window": {"days": 30}}]}]}"""));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("criteria[0].any[0].window.days: unknown field", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("count:", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_definition_naming_saved_library_objects_is_refused_as_a_portal_object_and_nothing_runs()
    {
        var result = await Rwe("subgroup", "count", "--source", Source, "--definition", Definition("""
            {"version": 1, "criteria": [{"kind": "condition", "concepts": [{"conceptSet": "9c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"}]},
                                        {"not": {"kind": "subgroup", "id": "0b5a6d3e-6f1a-4c53-9d7e-1f2a3b4c5d6e"}}]}
            """));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("criteria[0].concepts[0].conceptSet: a saved concept set is an object of a tenant's library in the portal", result.Error, StringComparison.Ordinal);
        Assert.Contains("criteria[1].not: a saved subgroup is an object of a tenant's library in the portal", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("count:", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_source_is_named()
    {
        var result = await Rwe("subgroup", "count", "--source", "nowhere", "--definition", Definition(Bleeds));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("data source 'nowhere' does not exist", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, false, "0")]
    [InlineData(1, false, "<11")]
    [InlineData(10, false, "<11")]
    [InlineData(11, false, "11")]
    [InlineData(7, true, "7")]
    [InlineData(12345, false, "12,345")]
    public void Counts_from_1_to_10_are_shown_as_below_11(long value, bool exact, string shown)
    {
        Assert.Equal(shown, SubgroupCommands.Show(value, exact));
    }
}
