using Dapper;
using Npgsql;
using RwePortal.Cli.Commands;
using RwePortal.Cli.Infrastructure;
using RwePortal.Cli.Tests.Support;
using RwePortal.Testing;
using RwePortal.Warehouse.Cohorts;

namespace RwePortal.Cli.Tests.Commands;

/// <summary>
/// <c>rwe bench subgroups</c> as an operator runs it: the built CLI against <see cref="SubgroupCliFixture"/>'s source
/// (30 persons: 1–20 have condition 192671, 1–5 are women, person 2 withdrew from research).
/// </summary>
public sealed class SubgroupBenchCommandTests(SubgroupCliFixture fixture) : IClassFixture<SubgroupCliFixture>
{
    private const string Source = SubgroupCliFixture.Source;
    private readonly TestDatabase _database = fixture.Database;

    private string Definition(string name, string json)
    {
        var path = Path.Combine(fixture.Folder, name);
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

    [Fact]
    public void The_benchmark_needs_the_database()
    {
        Assert.True(DatabaseRequirement.Needs(CliRoot.Create(), ["bench", "subgroups"]));
        Assert.True(DatabaseRequirement.Needs(CliRoot.Create(), ["bench", "subgroups", "--source", "s", "--runs", "3"]));
    }

    [Fact]
    public void The_built_in_definitions_are_the_documented_examples_and_are_valid()
    {
        Assert.Equal(7, SubgroupBenchCommand.BuiltIn.Length);
        Assert.Contains("synthetic-ttr-hf-low-steps.json", SubgroupBenchCommand.BuiltIn);
        var examples = Path.Combine(Shell.Root, "docs", "examples", "subgroups");
        foreach (var name in SubgroupBenchCommand.BuiltIn)
        {
            var json = SubgroupBenchCommand.ReadBuiltIn(name);
            Assert.Equal(File.ReadAllText(Path.Combine(examples, name)), json);
            var parsed = SubgroupDefinitionParser.Parse(json);
            Assert.True(parsed.IsValid, $"{name}: {string.Join("; ", parsed.Errors)}");
        }
    }

    [Theory]
    [InlineData(new double[] { 5, 1, 4, 2, 3, 10, 9, 8, 7, 6 }, 50, 5)]
    [InlineData(new double[] { 5, 1, 4, 2, 3, 10, 9, 8, 7, 6 }, 95, 10)]
    [InlineData(new double[] { 30, 10, 20 }, 50, 20)]
    [InlineData(new double[] { 30, 10, 20 }, 95, 30)]
    [InlineData(new double[] { 7 }, 95, 7)]
    public void Percentiles_are_nearest_rank(double[] values, double p, double expected)
    {
        Assert.Equal(expected, SubgroupBenchCommand.Percentile(values, p));
    }

    [Fact]
    public async Task Times_each_definition_warm_with_consent_and_prints_p50_and_p95_with_protected_counts()
    {
        var bleeds = Definition("bleeds.json", """{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 192671}]}]}""");
        var women = Definition("women.json", """{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 192671}]}, {"kind": "sex", "concepts": [8532]}]}""");
        await using var owner = new NpgsqlConnection(_database.OwnerConnectionString);
        var auditedBefore = await owner.ExecuteScalarAsync<long>("SELECT count(*) FROM app.audit_event WHERE event_type = 'WarehouseQuery'");

        var result = await Rwe("bench", "subgroups", "--source", Source, "--runs", "3", "--warmup", "1", "--definition", bleeds, "--definition", women);

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("3 timed runs per definition after 1 warm-up run(s)", result.Output, StringComparison.Ordinal);
        Assert.Matches(@"definition\s+count\s+consented\s+p50 ms\s+p95 ms\s+min ms\s+max ms\s+funnel p50 ms\s+funnel p95 ms", result.Output);
        // 20 with the condition, person 2 withdrew; of the 5 women with it, 4 are left: shown as <11.
        Assert.Matches(@"bleeds\.json\s+19\s+29\s+\d", result.Output);
        Assert.Matches(@"women\.json\s+<11\s+29\s+\d", result.Output);
        Assert.DoesNotMatch(@"women\.json\s+4\s", result.Output);
        var auditedAfter = await owner.ExecuteScalarAsync<long>("SELECT count(*) FROM app.audit_event WHERE event_type = 'WarehouseQuery'");
        Assert.Equal(auditedBefore + 2, auditedAfter);
    }

    [Fact]
    public async Task An_unknown_source_or_a_bad_run_count_is_refused()
    {
        var unknown = await Rwe("bench", "subgroups", "--source", "nowhere", "--runs", "1");
        var runs = await Rwe("bench", "subgroups", "--source", Source, "--runs", "0");

        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("data source 'nowhere' does not exist", unknown.Error, StringComparison.Ordinal);
        Assert.Equal(1, runs.ExitCode);
        Assert.Contains("--runs must be at least 1", runs.Error, StringComparison.Ordinal);
    }
}
