using System.Text.Json;
using Dapper;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Cli.Infrastructure;
using RwePortal.Cli.Tests.Support;
using RwePortal.Testing;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Cli.Tests.Commands;

/// <summary>
/// A small source for <c>rwe protocol preview</c>, every person observed 2015–2023 and born in 1960: persons 1–14
/// start celecoxib (1118084) on 2020-03-01, 15–26 diclofenac (1124300) on 2021-06-01, 27 both on 2020-03-01, 28
/// celecoxib on 2015-06-01 (less than a year observed before); 29–30 neither. Person 2 withdrew from research.
/// </summary>
public sealed class ProtocolCliFixture : IAsyncLifetime
{
    public const string Source = "cli_proto";
    private readonly TestDatabase _database = new();

    public TestDatabase Database => _database;

    public string Folder { get; } = Directory.CreateTempSubdirectory("rwe-protocol-").FullName;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await AppMigrator.MigrateAsync(_database.OwnerConnectionString);
        await using var dataSource = NpgsqlDataSource.Create(_database.OwnerConnectionString);
        await new DataSourceRegistry(dataSource).AddAsync(Source, "protocol command test source", CancellationToken.None);
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO cdm_{Source}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
            SELECT g, 8507, 1960, 0, 0 FROM generate_series(1, 30) g;
            INSERT INTO cdm_{Source}.observation_period (observation_period_id, person_id, observation_period_start_date, observation_period_end_date, period_type_concept_id)
            SELECT g, g, DATE '2015-01-01', DATE '2023-12-31', 32817 FROM generate_series(1, 30) g;
            INSERT INTO cdm_{Source}.drug_exposure (drug_exposure_id, person_id, drug_concept_id, drug_exposure_start_date, drug_exposure_end_date, drug_type_concept_id)
            SELECT g, g, 1118084, DATE '2020-03-01', DATE '2020-03-31', 32869 FROM generate_series(1, 14) g
            UNION ALL SELECT g, g, 1124300, DATE '2021-06-01', DATE '2021-06-30', 32869 FROM generate_series(15, 26) g
            UNION ALL SELECT 27, 27, 1118084, DATE '2020-03-01', DATE '2020-03-31', 32869
            UNION ALL SELECT 127, 27, 1124300, DATE '2020-03-01', DATE '2020-03-31', 32869
            UNION ALL SELECT 28, 28, 1118084, DATE '2015-06-01', DATE '2015-06-30', 32869;
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('{Source}', 'research', 'waiver', 'IRB-CLI-2', 'test');
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by)
            VALUES ('{Source}', 2, 'research', 'withdrawn', current_date - 1, 'test');
            """);
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        // The owner may not terminate the reader's sessions: wait for the CLI's to end before the database is dropped.
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

/// <summary><c>rwe protocol validate|preview</c> as a user runs them.</summary>
public sealed class ProtocolCommandsTests(ProtocolCliFixture fixture) : IClassFixture<ProtocolCliFixture>
{
    private const string Source = ProtocolCliFixture.Source;

    private static string Example(string name) => Path.Combine(Shell.Root, "docs", "examples", "protocols", name);

    private string Write(string json)
    {
        var path = Path.Combine(fixture.Folder, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    private string EunomiaExampleWith(Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Example("eunomia-celecoxib-vs-diclofenac.json")))!.AsObject();
        edit(root);
        return Write(root.ToJsonString());
    }

    private Task<ShellResult> Rwe(params string[] arguments) => Shell.RunAsync(
        "dotnet",
        [Path.Combine(Shell.Root, "src", "RwePortal.Cli", "bin", Shell.Configuration, "net10.0", "rwe.dll"), .. arguments],
        new Dictionary<string, string?>
        {
            ["RWE_CS_OWNER"] = fixture.Database.OwnerConnectionString,
            ["RWE_CS_READER"] = fixture.Database.ReaderConnectionString,
            ["ConnectionStrings__Owner"] = null,
            ["ConnectionStrings__Warehouse"] = null,
        },
        TimeSpan.FromMinutes(2));

    /// <summary>Validation reads a file only: it runs with no database settings at all.</summary>
    private static Task<ShellResult> RweWithoutDatabase(params string[] arguments) => Shell.RunAsync(
        "dotnet",
        [Path.Combine(Shell.Root, "src", "RwePortal.Cli", "bin", Shell.Configuration, "net10.0", "rwe.dll"), .. arguments],
        new Dictionary<string, string?>
        {
            ["RWE_CS_OWNER"] = null,
            ["RWE_CS_READER"] = null,
            ["ConnectionStrings__Owner"] = null,
            ["ConnectionStrings__Warehouse"] = null,
        },
        TimeSpan.FromMinutes(2));

    [Theory]
    [InlineData("protocol validate p.json", false)]
    [InlineData("protocol validate p.json --draft", false)]
    [InlineData("protocol preview --source s p.json", true)]
    [InlineData("protocol preview --source s p.json --purpose recontact --json --exact --by-month", true)]
    [InlineData("protocol sql --source s p.json", true)]
    public void Validate_needs_no_database_and_preview_does(string commandLine, bool needs)
    {
        Assert.Equal(needs, DatabaseRequirement.Needs(CliRoot.Create(), commandLine.Split(' ')));
    }

    [Theory]
    [InlineData("synthetic-arni-vs-enalapril.json")]
    [InlineData("eunomia-celecoxib-vs-diclofenac.json")]
    public async Task Both_example_protocols_validate_with_their_content_hash(string name)
    {
        var expected = ProtocolCanonical.Hash(ProtocolParser.Parse(await File.ReadAllTextAsync(Example(name))).Protocol!);

        var result = await RweWithoutDatabase("protocol", "validate", Example(name));

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains($"{name}: valid protocol (version 1, 9 of 9 components)", result.Output, StringComparison.Ordinal);
        Assert.Contains("sha256 " + expected, result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_inconsistent_protocol_exits_1_with_its_errors_per_component_and_node_path()
    {
        var file = EunomiaExampleWith(r =>
        {
            r["strategies"]!["gracePeriodDays"] = 400;
            r["analysisPlan"]!["horizonsDays"] = new System.Text.Json.Nodes.JsonArray(90, 500);
            r["strategies"]!["comparator"]!["concepts"]![0]!["dose"] = 1;
        });
        var structural = await RweWithoutDatabase("protocol", "validate", file);
        var semantic = await RweWithoutDatabase("protocol", "validate", EunomiaExampleWith(r =>
        {
            r["strategies"]!["gracePeriodDays"] = 400;
            r["analysisPlan"]!["horizonsDays"] = new System.Text.Json.Nodes.JsonArray(90, 500);
        }));

        Assert.Equal(1, structural.ExitCode);
        Assert.Contains("strategies:\n  strategies.comparator.concepts[0].dose: unknown field", structural.Output, StringComparison.Ordinal);
        Assert.Equal(1, semantic.ExitCode);
        Assert.Contains("strategies:\n  strategies.gracePeriodDays: the grace period (400 days) is longer than the maximum follow-up (365 days)", semantic.Output, StringComparison.Ordinal);
        Assert.Contains("analysisPlan:\n  analysisPlan.horizonsDays[1]: the horizon (500 days)", semantic.Output, StringComparison.Ordinal);
        Assert.Contains("not a valid protocol (2 error(s))", semantic.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_draft_validates_with_draft_and_lists_what_is_missing()
    {
        var file = Write("""{"version": 1, "general": {"title": "started"}}""");

        var draft = await RweWithoutDatabase("protocol", "validate", file, "--draft");
        var full = await RweWithoutDatabase("protocol", "validate", file);

        Assert.True(draft.ExitCode == 0, draft.All);
        Assert.Contains("outcome:\n  outcome: this component is missing", draft.Output, StringComparison.Ordinal);
        Assert.Contains("valid protocol draft (version 1, 1 of 9 components)", draft.Output, StringComparison.Ordinal);
        Assert.Equal(1, full.ExitCode);
    }

    [Fact]
    public async Task Preview_prints_attrition_per_arm_time_zero_and_the_blinded_prior_outcome_line()
    {
        var result = await Rwe("protocol", "preview", "--source", Source, Example("eunomia-celecoxib-vs-diclofenac.json"));

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("cohort: celecoxib 13, diclofenac 12", result.Output, StringComparison.Ordinal);
        Assert.Contains("removed by consent: <11", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"first dispensing of either strategy \(time zero\), consented\s+14\s+12\s+<11\s+27", result.Output);
        Assert.Matches(@"started both strategies within 0 days of time zero: excluded\s+14\s+12\s+0\s+26", result.Output);
        Assert.Matches(@"new user: observed the 365 days before time zero, neither strategy before\s+13\s+12\s+0\s+25", result.Output);
        Assert.Contains(ProtocolPreviewCompiler.PriorOutcomeLine, result.Output, StringComparison.Ordinal);
        Assert.Matches(@"2020\s+13\s+0", result.Output);
        Assert.Matches(@"2021\s+0\s+12", result.Output);
        Assert.DoesNotContain("192671", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preview_json_exact_shows_small_counts_and_is_on_the_audit_trail()
    {
        var result = await Rwe("protocol", "preview", "--source", Source, Example("eunomia-celecoxib-vs-diclofenac.json"), "--json", "--exact", "--by-month");
        var shown = await Rwe("protocol", "preview", "--source", Source, Example("eunomia-celecoxib-vs-diclofenac.json"), "--json");

        Assert.True(result.ExitCode == 0, result.All);
        using var document = JsonDocument.Parse(result.Output);
        var root = document.RootElement;
        Assert.True(root.GetProperty("outcomeBlinded").GetBoolean());
        Assert.Equal(1, root.GetProperty("removedByConsent").GetProperty("total").GetProperty("value").GetInt64());
        Assert.Equal(1, root.GetProperty("attrition")[0].GetProperty("remaining").GetProperty("both").GetProperty("value").GetInt64());
        Assert.False(root.GetProperty("attrition")[5].GetProperty("applied").GetBoolean());
        Assert.Equal("2020-03", root.GetProperty("timeZero").GetProperty("bins")[0].GetProperty("period").GetString());
        using var protectedDocument = JsonDocument.Parse(shown.Output);
        var removed = protectedDocument.RootElement.GetProperty("removedByConsent").GetProperty("total");
        Assert.Equal(JsonValueKind.Null, removed.GetProperty("value").ValueKind);
        Assert.Equal("<11", removed.GetProperty("shown").GetString());

        await using var owner = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        var audited = (await owner.QueryAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE event_type = 'WarehouseQuery' AND user_email LIKE 'cli:%' ORDER BY id")).ToList();
        Assert.Contains(audited, d => d.Contains("\"exact\": true", StringComparison.Ordinal) && d.Contains("\"rows\": 25", StringComparison.Ordinal));
        using var last = JsonDocument.Parse(audited[^1]);
        Assert.Matches("^[0-9a-f]{64}$", last.RootElement.GetProperty("sql_sha256").GetString());
        Assert.Equal(Source, last.RootElement.GetProperty("source").GetString());
    }

    [Fact]
    public async Task Preview_refuses_a_protocol_with_broken_strategies_and_runs_nothing()
    {
        var result = await Rwe("protocol", "preview", "--source", Source, EunomiaExampleWith(r => r["strategies"]!["comparator"]!["concepts"]![0]!["id"] = 1118084));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("strategies.comparator.concepts[0].id: concept 1118084 is in both", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("cohort:", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sql_prints_the_one_statement_with_the_consent_filter_and_no_outcome_concept()
    {
        var result = await Rwe("protocol", "sql", "--source", Source, Example("eunomia-celecoxib-vs-diclofenac.json"));

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("gov.consented_persons(@source, @purpose)", result.Output, StringComparison.Ordinal);
        Assert.Contains("--   @source = \"cli_proto\"", result.Output, StringComparison.Ordinal);
        Assert.Contains("{1118084} (integer[])", result.Output, StringComparison.Ordinal);
        Assert.Contains("\"cdm_cli_proto\".drug_exposure", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("192671", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("condition_occurrence", result.Output, StringComparison.Ordinal);
    }
}
