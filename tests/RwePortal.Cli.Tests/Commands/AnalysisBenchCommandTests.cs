using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using RwePortal.Application.Analyses;
using RwePortal.Application.Data;
using RwePortal.Cli.Commands;
using RwePortal.Cli.Infrastructure;
using RwePortal.Cli.Tests.Support;
using RwePortal.Testing;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Cli.Tests.Commands;

/// <summary>A migrated test database, no source yet: <c>rwe bench analysis</c> generates its own.</summary>
public sealed class AnalysisBenchFixture : IAsyncLifetime
{
    public TestDatabase Database { get; } = new();

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        await AppMigrator.MigrateAsync(Database.OwnerConnectionString);
    }

    public async Task DisposeAsync()
    {
        // The CLI's reader sessions end with its process; wait until the server has seen them go before dropping.
        await using (var connection = new NpgsqlConnection(Database.OwnerConnectionString))
        {
            await connection.OpenAsync();
            for (var attempt = 0; attempt < 100; attempt++)
            {
                var sessions = await connection.ExecuteScalarAsync<long>(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
                if (sessions == 0)
                {
                    break;
                }

                await Task.Delay(50);
            }
        }

        await Database.DisposeAsync();
    }
}

/// <summary><c>rwe bench analysis</c> as an operator runs it: the built CLI on a small generated source.</summary>
public sealed class AnalysisBenchCommandTests(AnalysisBenchFixture fixture) : IClassFixture<AnalysisBenchFixture>
{
    private const string Source = "bench_tiny";

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

    private static readonly string[] Steps = [.. Enum.GetValues<AnalysisStep>().Select(s => s.ToString().ToLowerInvariant())];

    /// <summary>Each step and the total have a line with min ≤ median ≤ max seconds.</summary>
    private static Dictionary<string, (double Min, double Median, double Max)> Table(string output)
    {
        var table = new Dictionary<string, (double, double, double)>();
        foreach (var name in Steps.Append("total"))
        {
            var m = Regex.Match(output, $@"(?m)^{name}\s+(\d+\.\d\d)\s+(\d+\.\d\d)\s+(\d+\.\d\d)\s*$");
            Assert.True(m.Success, $"no timing line for {name} in:\n{output}");
            double D(int i) => double.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture);
            Assert.True(D(1) <= D(2) && D(2) <= D(3), $"{name}: min {D(1)}, median {D(2)}, max {D(3)}");
            table[name] = (D(1), D(2), D(3));
        }

        return table;
    }

    [Fact]
    public void The_benchmark_is_a_bench_subcommand_that_needs_the_database()
    {
        Assert.True(DatabaseRequirement.Needs(CliRoot.Create(), ["bench", "analysis"]));
        Assert.True(DatabaseRequirement.Needs(CliRoot.Create(), ["bench", "analysis", "--persons", "3000", "--runs", "2", "--reuse"]));
    }

    [Fact]
    public void The_built_in_protocol_is_the_documented_synthetic_example_and_is_complete()
    {
        var json = AnalysisBenchCommand.ReadProtocol();
        Assert.Equal(File.ReadAllText(Path.Combine(Shell.Root, "docs", "examples", "protocols", AnalysisBenchCommand.ProtocolName)), json);
        var parsed = ProtocolParser.Parse(json);
        Assert.True(parsed.IsValid && parsed.Protocol!.IsComplete, string.Join("; ", parsed.Errors));
        var bench = ProtocolParser.Parse(AnalysisBenchCommand.BenchProtocol());
        Assert.True(bench.IsValid && bench.Protocol!.IsComplete, string.Join("; ", bench.Errors));
        // Every modality's large-scale set, each in a window that ends the day before time zero; the rest as documented.
        Assert.Equal(Enum.GetValues<CovariateModality>(), bench.Protocol!.Assignment!.Covariates.Select(c => c.Modality));
        Assert.All(bench.Protocol.Assignment.Covariates, c => Assert.Equal(AnalysisBenchCommand.WindowStart(c.Modality), c.WindowStart));
        Assert.All(bench.Protocol.Assignment.Covariates.Where(c => c.WindowStart is not null), c => Assert.Equal(-1, c.WindowEnd));
        Assert.Equal(parsed.Protocol!.Eligibility!.PriorObservationDays, bench.Protocol.Eligibility!.PriorObservationDays);
        Assert.Equal(parsed.Protocol.Eligibility.Criteria.Count, bench.Protocol.Eligibility.Criteria.Count);
        Assert.Equal(parsed.Protocol.AnalysisPlan!.Adjustment, bench.Protocol.AnalysisPlan!.Adjustment);
    }

    [Theory]
    [InlineData(new double[] { 3 }, 3)]
    [InlineData(new double[] { 5, 1, 3 }, 3)]
    [InlineData(new double[] { 4, 1, 3, 2 }, 2.5)]
    public void The_median_is_the_middle_value_or_the_mean_of_the_two_middle_ones(double[] values, double expected)
    {
        Assert.Equal(expected, AnalysisBenchCommand.Median(values));
    }

    [Fact]
    public async Task Generates_a_source_then_times_every_step_and_the_total_over_the_runs_and_reuses_the_source_when_asked()
    {
        await using var owner = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        var auditedBefore = await owner.ExecuteScalarAsync<long>("SELECT count(*) FROM app.audit_event WHERE event_type = 'WarehouseQuery'");

        var first = await Rwe("bench", "analysis", "--persons", "3000", "--seed", "7", "--runs", "2", "--source", Source);

        Assert.True(first.ExitCode == 0, first.All);
        Assert.Contains("setup: generated 3,000 persons (seed 7) into source bench_tiny", first.Output, StringComparison.Ordinal);
        Assert.Contains("2 timed run(s)", first.Output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^run 1: \d+\.\d\d s$", first.Output);
        Assert.Matches(@"(?m)^run 2: \d+\.\d\d s$", first.Output);
        Assert.Matches(@"step\s+min s\s+median s\s+max s", first.Output);
        var table = Table(first.Output);
        // The steps happen inside the run: together they take no longer than the run's total.
        Assert.True(Steps.Sum(s => table[s].Min) <= table["total"].Max + 0.05, first.Output);
        // The protocol's L1 model: its cross-validation and the rest of the propensity step are timed apart.
        Assert.Matches(@"(?m)^  cross-validation\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d\s*$", first.Output);
        Assert.Matches(@"(?m)^  final fit, refit, scores\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d\s*$", first.Output);
        Assert.Matches(@"cohort: sacubitril/valsartan [\d,]+, enalapril [\d,]+; [\d,]+ covariates", first.Output);
        Assert.Matches(@"target: total at most 30 s: (met|not met) \(median \d+\.\d\d s over 2 run\(s\)\)", first.Output);
        var persons = await owner.ExecuteScalarAsync<long>($"SELECT count(*) FROM cdm_{Source}.person");
        Assert.Equal(3000, persons);
        var auditedAfter = await owner.ExecuteScalarAsync<long>("SELECT count(*) FROM app.audit_event WHERE event_type = 'WarehouseQuery'");
        Assert.Equal(auditedBefore + 2, auditedAfter);

        // --reuse analyses what is there: a different --persons does not regenerate.
        var reused = await Rwe("bench", "analysis", "--persons", "5000", "--runs", "1", "--source", Source, "--reuse");

        Assert.True(reused.ExitCode == 0, reused.All);
        Assert.Contains("setup: reused source bench_tiny (3,000 persons); not timed", reused.Output, StringComparison.Ordinal);
        Table(reused.Output);
        Assert.Equal(3000, await owner.ExecuteScalarAsync<long>($"SELECT count(*) FROM cdm_{Source}.person"));
    }

    [Fact]
    public async Task A_bad_run_count_or_source_name_is_refused()
    {
        var runs = await Rwe("bench", "analysis", "--runs", "0");
        var name = await Rwe("bench", "analysis", "--source", "Not-A-Name");

        Assert.Equal(1, runs.ExitCode);
        Assert.Contains("--runs must be at least 1", runs.Error, StringComparison.Ordinal);
        Assert.Equal(1, name.ExitCode);
        Assert.Contains("is not a valid source name", name.Error, StringComparison.Ordinal);
    }
}
