using System.Text.Json;
using Dapper;
using Npgsql;
using RwePortal.Cli.Infrastructure;
using RwePortal.Cli.Tests.Support;
using RwePortal.Testing;

namespace RwePortal.Cli.Tests.Commands;

/// <summary>
/// <c>rwe subgroup characterize</c> as an operator runs it, on <see cref="SubgroupCliFixture"/>'s source: 30 persons,
/// 1–20 with condition 192671, 1–5 women, person 2 withdrawn from research (so 19 bleeding members: 4 women, 15 men).
/// </summary>
public sealed class SubgroupCharacterizeTests(SubgroupCliFixture fixture) : IClassFixture<SubgroupCliFixture>
{
    private const string Source = SubgroupCliFixture.Source;
    private const string Bleeds = """{"version": 1, "criteria": [{"kind": "condition", "label": "GI bleed", "concepts": [{"id": 192671}]}]}""";
    private readonly TestDatabase _database = fixture.Database;

    private string Write(string json)
    {
        var path = Path.Combine(fixture.Folder, Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, json);
        return path;
    }

    private string OutFile() => Path.Combine(fixture.Folder, "table1-" + Guid.NewGuid().ToString("N") + ".json");

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

    private static JsonElement Row(JsonDocument table, string section, string key) =>
        table.RootElement.GetProperty("sections").EnumerateArray().Single(s => s.GetProperty("key").GetString() == section)
            .GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("key").GetString() == key);

    [Fact]
    public void Characterize_needs_the_database()
    {
        Assert.True(DatabaseRequirement.Needs(CliRoot.Create(), "subgroup characterize --source s --definition d.json --out t.json".Split(' ')));
    }

    [Fact]
    public async Task Characterize_writes_the_table1_with_small_cells_and_their_complements_hidden_unless_exact()
    {
        var definition = Write(Bleeds);
        var (shownFile, exactFile) = (OutFile(), OutFile());

        var shown = await Rwe("subgroup", "characterize", "--source", Source, "--definition", definition, "--out", shownFile);
        var exact = await Rwe("subgroup", "characterize", "--source", Source, "--definition", definition, "--out", exactFile, "--exact");

        Assert.True(shown.ExitCode == 0, shown.All);
        Assert.True(exact.ExitCode == 0, exact.All);
        Assert.Contains("Table 1 of 19 persons", shown.Output, StringComparison.Ordinal);
        using var table = JsonDocument.Parse(await File.ReadAllTextAsync(shownFile));
        Assert.Equal(19, table.RootElement.GetProperty("persons").GetProperty("value").GetInt64());
        // Four women: "<11"; 15 men would give them away as 19 − 15, so they are hidden too.
        Assert.Equal("<11", Row(table, "sex", "8532").GetProperty("count").GetProperty("display").GetString());
        Assert.Equal(JsonValueKind.Null, Row(table, "sex", "8532").GetProperty("count").GetProperty("value").ValueKind);
        Assert.Equal("complementary", Row(table, "sex", "8507").GetProperty("count").GetProperty("protection").GetString());
        Assert.Equal(JsonValueKind.Null, Row(table, "sex", "8507").GetProperty("percent").ValueKind);
        Assert.Equal(100.0, Row(table, "conditions", "192671").GetProperty("percent").GetDouble());
        using var exactTable = JsonDocument.Parse(await File.ReadAllTextAsync(exactFile));
        Assert.Equal(4, Row(exactTable, "sex", "8532").GetProperty("count").GetProperty("value").GetInt64());
        Assert.Equal(15, Row(exactTable, "sex", "8507").GetProperty("count").GetProperty("value").GetInt64());
    }

    [Fact]
    public async Task Characterize_is_on_the_audit_trail_as_a_count_is()
    {
        var result = await Rwe("subgroup", "characterize", "--source", Source, "--definition", Write(Bleeds), "--out", OutFile(), "--exact");

        Assert.True(result.ExitCode == 0, result.All);
        await using var owner = new NpgsqlConnection(_database.OwnerConnectionString);
        var details = await owner.QuerySingleAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE event_type = 'WarehouseQuery' AND user_email LIKE 'cli:%' AND details ->> 'kind' = 'characterization' ORDER BY id DESC LIMIT 1");
        using var document = JsonDocument.Parse(details);
        Assert.Matches("^[0-9a-f]{64}$", document.RootElement.GetProperty("sql_sha256").GetString());
        Assert.Equal(19, document.RootElement.GetProperty("rows").GetInt64());
        Assert.True(document.RootElement.GetProperty("exact").GetBoolean());
    }

    [Fact]
    public async Task A_crafted_definition_is_refused_and_no_file_is_written()
    {
        var file = OutFile();

        var result = await Rwe("subgroup", "characterize", "--source", Source, "--definition",
            Write("""{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": "1; DROP TABLE person"}]}]}"""), "--out", file);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("criteria[0]", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(file));
    }
}
