using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Dapper;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Cli.Tests.Support;
using RwePortal.Testing;
using RwePortal.Warehouse.Loading;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Cli.Tests.Commands;

/// <summary>The Eunomia sample loaded into a source of its own (research under a waiver), for <c>rwe run-protocol</c>.</summary>
public sealed class RunProtocolCliFixture : IAsyncLifetime
{
    public const string Source = "eunomia";
    private readonly TestDatabase _database = new();

    public TestDatabase Database => _database;

    public string Folder { get; } = Directory.CreateTempSubdirectory("rwe-run-protocol-").FullName;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await AppMigrator.MigrateAsync(_database.OwnerConnectionString);
        await using var owner = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(_database.OwnerConnectionString) { CommandTimeout = 0 }.ConnectionString);
        var csv = Path.Combine(Folder, "csv");
        await using (var compressed = File.OpenRead(Path.Combine(Shell.Root, "tests", "data", "eunomia-gibleed.tar.br")))
        await using (var tar = new BrotliStream(compressed, CompressionMode.Decompress))
        {
            Directory.CreateDirectory(csv);
            await TarFile.ExtractToDirectoryAsync(tar, csv, overwriteFiles: true);
        }

        await new DataSourceRegistry(owner).AddAsync(Source, "Eunomia GiBleed sample", CancellationToken.None);
        await new OmopCsvLoader(owner).LoadAsync(Source, csv, new OmopLoadOptions(), CancellationToken.None);
        await using var connection = await owner.OpenConnectionAsync();
        await connection.ExecuteAsync("INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('eunomia', 'research', 'waiver', 'IRB-CLI-RUN', 'test')");
    }

    public async Task<long> OwnerCountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database.OwnerConnectionString);
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    public async Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        await using (var connection = new NpgsqlConnection(_database.OwnerConnectionString))
        {
            await connection.OpenAsync();
            for (var attempt = 0; attempt < 100; attempt++)
            {
                if (await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()") == 0)
                {
                    break;
                }

                await Task.Delay(50);
            }
        }

        await _database.DisposeAsync();
    }
}

/// <summary><c>rwe run-protocol</c> as a user runs it on the Eunomia example protocol.</summary>
public sealed class RunProtocolCommandTests(RunProtocolCliFixture fixture) : IClassFixture<RunProtocolCliFixture>
{
    private static string Example(string name) => Path.Combine(Shell.Root, "docs", "examples", "protocols", name);

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
        TimeSpan.FromMinutes(5));

    /// <summary>New users of either NSAID by hand: first dispensing, one drug that day, a year observed, 18 or older, no GI haemorrhage before.</summary>
    private const string Cohort = """
        WITH t AS (SELECT descendant_concept_id AS id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = 1118084 UNION SELECT 1118084),
             c AS (SELECT descendant_concept_id AS id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = 1124300 UNION SELECT 1124300),
             o AS (SELECT descendant_concept_id AS id FROM cdm_eunomia.concept_ancestor WHERE ancestor_concept_id = 192671 UNION SELECT 192671),
             f AS (SELECT person_id, min(drug_exposure_start_date) AS tz FROM cdm_eunomia.drug_exposure
                   WHERE drug_concept_id IN (SELECT id FROM t UNION SELECT id FROM c) GROUP BY person_id),
             a AS (SELECT f.person_id,
                          EXISTS (SELECT 1 FROM cdm_eunomia.drug_exposure x WHERE x.person_id = f.person_id AND x.drug_exposure_start_date = f.tz AND x.drug_concept_id IN (SELECT id FROM t)) AS on_t,
                          EXISTS (SELECT 1 FROM cdm_eunomia.drug_exposure x WHERE x.person_id = f.person_id AND x.drug_exposure_start_date = f.tz AND x.drug_concept_id IN (SELECT id FROM c)) AS on_c
                   FROM f JOIN cdm_eunomia.person p ON p.person_id = f.person_id
                   WHERE extract(year FROM f.tz) - p.year_of_birth >= 18
                     AND EXISTS (SELECT 1 FROM cdm_eunomia.observation_period op WHERE op.person_id = f.person_id AND op.observation_period_start_date <= f.tz - 365 AND op.observation_period_end_date >= f.tz)
                     AND NOT EXISTS (SELECT 1 FROM cdm_eunomia.condition_occurrence co WHERE co.person_id = f.person_id AND co.condition_concept_id IN (SELECT id FROM o) AND co.condition_start_date < f.tz))
        """;

    [Fact]
    public async Task Eunomia_example_runs_end_to_end_prints_each_step_and_writes_the_document_with_persons_per_arm_as_written_by_hand()
    {
        var output = Path.Combine(fixture.Folder, "result.json");
        var facts = Path.Combine(fixture.Folder, "facts.json");
        var treatment = await fixture.OwnerCountAsync($"{Cohort} SELECT count(*) FROM a WHERE on_t AND NOT on_c");
        var comparator = await fixture.OwnerCountAsync($"{Cohort} SELECT count(*) FROM a WHERE on_c AND NOT on_t");

        var result = await Rwe("run-protocol", "--source", RunProtocolCliFixture.Source, "--protocol", Example("eunomia-celecoxib-vs-diclofenac.json"),
            "--out", output, "--facts", facts, "--seed", "11");

        Assert.True(result.ExitCode == 0, result.All);
        foreach (var step in new[] { "cohort", "covariates", "propensity", "weights", "balance", "outcomes", "subgroups", "calibration" })
        {
            Assert.Matches($"(?m)^{step} +[0-9]+\\.[0-9]{{2}} s ", result.Output);
        }

        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        var root = document.RootElement;
        Assert.Equal(1, root.GetProperty("format").GetInt32());
        Assert.Equal("celecoxib", root.GetProperty("header").GetProperty("treatmentLabel").GetString());
        Assert.Equal("perProtocol", root.GetProperty("header").GetProperty("contrast").GetString());
        Assert.Equal(treatment, root.GetProperty("arms").GetProperty("personsTreatment").GetProperty("value").GetInt64());
        Assert.Equal(comparator, root.GetProperty("arms").GetProperty("personsComparator").GetProperty("value").GetInt64());
        var hr = root.GetProperty("estimates").GetProperty("hazardRatio");
        Assert.True(hr.GetProperty("lower").GetDouble() < hr.GetProperty("value").GetDouble() && hr.GetProperty("value").GetDouble() < hr.GetProperty("upper").GetDouble());
        Assert.True(root.GetProperty("balance").GetArrayLength() > 50, "balance on the large-scale covariates");
        Assert.Contains(root.GetProperty("diagnostics").GetProperty("notes").EnumerateArray(), n => n.GetString()!.StartsWith("1:1 nearest-neighbour matching", StringComparison.Ordinal));
        using var factsDocument = JsonDocument.Parse(await File.ReadAllTextAsync(facts));
        Assert.Equal("0", factsDocument.RootElement.GetProperty("removedByConsent").GetProperty("display").GetString());
        Assert.False(string.IsNullOrWhiteSpace(factsDocument.RootElement.GetProperty("codeVersion").GetString()));
    }

    /// <summary>
    /// The example as an intention-to-treat analogue: outcomes per arm equal the hand-written follow-up (GI haemorrhage from
    /// time zero to the first of end of observation, death and day 364), and the unadjusted HR equals what R's
    /// <c>coxph(Surv(time, event) ~ treatment, ties = "efron", robust = TRUE)</c> computes on that hand-written table
    /// (survival 3.5.3; the script is in docs/analyses.md): 1.3466147566, 95% CI 1.0967502267–1.6534040829.
    /// </summary>
    [Fact]
    public async Task Eunomia_itt_outcomes_equal_a_hand_written_follow_up_and_the_unadjusted_hr_equals_rs_coxph()
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Example("eunomia-celecoxib-vs-diclofenac.json")))!.AsObject();
        root["contrast"]!["type"] = "intentionToTreat";
        root["followUp"]!.AsObject().Remove("censorAt");
        var protocol = Path.Combine(fixture.Folder, "itt.json");
        await File.WriteAllTextAsync(protocol, root.ToJsonString());
        var output = Path.Combine(fixture.Folder, "itt-result.json");
        const string FollowUp = """
            , e AS (SELECT a.person_id, a.on_t, f.tz, least(f.tz + 364,
                      (SELECT max(op.observation_period_end_date) FROM cdm_eunomia.observation_period op WHERE op.person_id = a.person_id AND op.observation_period_start_date <= f.tz AND op.observation_period_end_date >= f.tz),
                      (SELECT min(d.death_date) FROM cdm_eunomia.death d WHERE d.person_id = a.person_id)) AS last_day,
                      (SELECT min(co.condition_start_date) FROM cdm_eunomia.condition_occurrence co WHERE co.person_id = a.person_id AND co.condition_concept_id IN (SELECT id FROM o) AND co.condition_start_date >= f.tz) AS outcome
                    FROM a JOIN f ON f.person_id = a.person_id WHERE a.on_t <> a.on_c)
            """;
        var eventsT = await fixture.OwnerCountAsync($"{Cohort}{FollowUp} SELECT count(*) FROM e WHERE on_t AND outcome <= last_day");
        var eventsC = await fixture.OwnerCountAsync($"{Cohort}{FollowUp} SELECT count(*) FROM e WHERE NOT on_t AND outcome <= last_day");

        var result = await Rwe("run-protocol", "--source", RunProtocolCliFixture.Source, "--protocol", protocol, "--out", output);

        Assert.True(result.ExitCode == 0, result.All);
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        var arms = document.RootElement.GetProperty("arms");
        Assert.Equal(eventsT, arms.GetProperty("eventsTreatment").GetProperty("value").GetInt64());
        Assert.Equal(eventsC, arms.GetProperty("eventsComparator").GetProperty("value").GetInt64());
        var crude = document.RootElement.GetProperty("estimates").GetProperty("unadjustedHazardRatio");
        Assert.Equal(1.3466147566, crude.GetProperty("value").GetDouble(), 1e-8);
        Assert.Equal(1.0967502267, crude.GetProperty("lower").GetDouble(), 1e-8);
        Assert.Equal(1.6534040829, crude.GetProperty("upper").GetDouble(), 1e-8);
    }

    [Fact]
    public async Task An_incomplete_protocol_exits_1_naming_the_problem_and_writes_nothing()
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Example("eunomia-celecoxib-vs-diclofenac.json")))!.AsObject();
        root.Remove("outcome");
        var protocol = Path.Combine(fixture.Folder, "incomplete.json");
        await File.WriteAllTextAsync(protocol, root.ToJsonString());
        var output = Path.Combine(fixture.Folder, "never.json");

        var result = await Rwe("run-protocol", "--source", RunProtocolCliFixture.Source, "--protocol", protocol, "--out", output);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("outcome", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task An_unknown_source_fails_with_its_stable_code()
    {
        var output = Path.Combine(fixture.Folder, "none.json");

        var result = await Rwe("run-protocol", "--source", "nowhere", "--protocol", Example("eunomia-celecoxib-vs-diclofenac.json"), "--out", output);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("Run.SourceNotFound", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }
}
