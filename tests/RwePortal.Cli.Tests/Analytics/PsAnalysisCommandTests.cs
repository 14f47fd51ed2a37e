using System.Globalization;
using System.Text.Json;
using RwePortal.Cli.Analytics;
using RwePortal.Cli.Tests.Support;

namespace RwePortal.Cli.Tests.Analytics;

/// <summary>`rwe ps-analysis` end to end on files: the output contract and every kind of bad input.</summary>
public sealed class PsAnalysisCommandTests : IDisposable
{
    private const string Header = "person_id,treatment,time,event,age,flag";
    private readonly string _dir = Directory.CreateTempSubdirectory("ps-analysis-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string FixtureCohort(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name, "cohort.csv");

    private async Task<(int Code, string Out, string Err)> Run(string data, string estimand = "ATE", string? truncate = null, string? covariates = null, string? weightsOut = null)
    {
        using var stdout = new StringWriter(CultureInfo.InvariantCulture);
        using var stderr = new StringWriter(CultureInfo.InvariantCulture);
        var args = new PsAnalysisArguments(data, estimand, truncate, covariates, Path.Combine(_dir, "result.json"), weightsOut);
        var code = await PsAnalysisRunner.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string Write(params string[] lines)
    {
        var path = Path.Combine(_dir, "cohort.csv");
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
        return path;
    }

    /// <summary>A small valid cohort: 40 persons, overlapping arms.</summary>
    private static List<string> ValidRows()
    {
        var rows = new List<string> { Header };
        for (var i = 0; i < 40; i++)
        {
            var t = i % 2;
            var age = 50 + ((i * 7) % 23);
            var flag = (i / 3) % 2;
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"{i + 1},{t},{10 + (i * 13 % 300)},{((i * 5) % 3 == 0 ? 1 : 0)},{age},{flag}"));
        }

        return rows;
    }

    [Fact]
    public async Task Result_json_has_every_field_of_Rs_expected_json_and_weights_csv_matches_R()
    {
        var weightsOut = Path.Combine(_dir, "weights.csv");
        var (code, _, err) = await Run(FixtureCohort("ate-truncated"), "ATE", "0.01,0.99", weightsOut: weightsOut);
        Assert.True(code == 0, err);

        using var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "ate-truncated", "expected.json")));
        using var actual = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "result.json")));
        AssertSameShape(expected.RootElement, actual.RootElement, "$", ["seed", "true_hr"]);
        Assert.Equal(
            expected.RootElement.GetProperty("cox_efron").GetProperty("hr").GetDouble(),
            actual.RootElement.GetProperty("cox_efron").GetProperty("hr").GetDouble(),
            1e-6);

        var rWeights = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "ate-truncated", "weights.csv")).Skip(1).ToArray();
        var ours = File.ReadAllLines(weightsOut);
        Assert.Equal("person_id,ps,weight", ours[0]);
        Assert.Equal(rWeights.Length, ours.Length - 1);
        for (var i = 0; i < rWeights.Length; i++)
        {
            var r = rWeights[i].Split(',');
            var o = ours[i + 1].Split(',');
            Assert.Equal(r[0], o[0]);
            Close.Assert(double.Parse(r[2], CultureInfo.InvariantCulture), double.Parse(o[2], CultureInfo.InvariantCulture), $"weight of {r[0]}");
        }
    }

    [Fact]
    public async Task Missing_column_is_reported_with_file_line_and_column_and_no_output_is_written()
    {
        var rows = ValidRows().Select(r => string.Join(',', r.Split(',').Where((_, k) => k != 2))).ToArray();
        var (code, _, err) = await Run(Write(rows));
        Assert.NotEqual(0, code);
        Assert.Contains("cohort.csv, line 1, column 'time'", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "result.json")));
    }

    [Fact]
    public async Task Requested_covariate_that_is_not_in_the_file_is_a_missing_column()
    {
        var (code, _, err) = await Run(Write([.. ValidRows()]), covariates: "age,bmi");
        Assert.NotEqual(0, code);
        Assert.Contains("column 'bmi'", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "result.json")));
    }

    [Fact]
    public async Task Non_numeric_value_names_its_line_and_column()
    {
        var rows = ValidRows();
        rows[5] = "5,0,100,1,NA,0";
        var (code, _, err) = await Run(Write([.. rows]));
        Assert.NotEqual(0, code);
        Assert.Contains("cohort.csv, line 6, column 'age'", err, StringComparison.Ordinal);
        Assert.Contains("'NA'", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "result.json")));
    }

    [Fact]
    public async Task Treatment_other_than_0_or_1_is_rejected_with_its_position()
    {
        var rows = ValidRows();
        rows[3] = "3,2,100,1,60,0";
        var (code, _, err) = await Run(Write([.. rows]));
        Assert.NotEqual(0, code);
        Assert.Contains("line 4, column 'treatment'", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "result.json")));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-4")]
    public async Task Time_of_zero_or_less_is_rejected_with_its_position(string time)
    {
        var rows = ValidRows();
        rows[10] = $"10,1,{time},1,60,0";
        var (code, _, err) = await Run(Write([.. rows]));
        Assert.NotEqual(0, code);
        Assert.Contains("line 11, column 'time'", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "result.json")));
    }

    [Fact]
    public async Task One_empty_arm_is_rejected()
    {
        var rows = ValidRows().Select((r, k) => k == 0 ? r : ReplaceField(r, 1, "1")).ToArray();
        var (code, _, err) = await Run(Write(rows));
        Assert.NotEqual(0, code);
        Assert.Contains("column 'treatment'", err, StringComparison.Ordinal);
        Assert.Contains("control arm is empty", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "result.json")));
    }

    [Fact]
    public async Task Perfect_separation_fails_and_names_the_separating_covariate()
    {
        // flag = treatment for everyone: the PS model has no finite maximum.
        var rows = ValidRows().Select((r, k) => k == 0 ? r : ReplaceField(r, 5, r.Split(',')[1])).ToArray();
        var (code, _, err) = await Run(Write(rows));
        Assert.NotEqual(0, code);
        Assert.Contains("column 'flag'", err, StringComparison.Ordinal);
        Assert.Contains("separat", err, StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(Path.Combine(_dir, "result.json")));
    }

    [Theory]
    [InlineData("ATX", null)]
    [InlineData("ATE", "0.99,0.01")]
    [InlineData("ATE", "0.01")]
    public async Task Bad_options_exit_non_zero_without_output(string estimand, string? truncate)
    {
        var (code, _, err) = await Run(Write([.. ValidRows()]), estimand, truncate);
        Assert.NotEqual(0, code);
        Assert.NotEmpty(err);
        Assert.False(File.Exists(Path.Combine(_dir, "result.json")));
    }

    private static string ReplaceField(string row, int index, string value)
    {
        var cells = row.Split(',');
        cells[index] = value;
        return string.Join(',', cells);
    }

    private static void AssertSameShape(JsonElement expected, JsonElement actual, string path, string[] ignore)
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                Assert.True(actual.ValueKind == JsonValueKind.Object, $"{path} should be an object");
                foreach (var p in expected.EnumerateObject())
                {
                    if (ignore.Contains(p.Name))
                    {
                        continue;
                    }

                    Assert.True(actual.TryGetProperty(p.Name, out var child), $"{path}.{p.Name} is missing");
                    AssertSameShape(p.Value, child, $"{path}.{p.Name}", ignore);
                }

                break;
            case JsonValueKind.Array:
                Assert.True(actual.ValueKind == JsonValueKind.Array, $"{path} should be an array");
                Assert.Equal(expected.GetArrayLength(), actual.GetArrayLength());
                for (var k = 0; k < expected.GetArrayLength(); k++)
                {
                    AssertSameShape(expected[k], actual[k], $"{path}[{k}]", ignore);
                }

                break;
            default:
                Assert.True(expected.ValueKind == actual.ValueKind || (expected.ValueKind is JsonValueKind.True or JsonValueKind.False && actual.ValueKind is JsonValueKind.True or JsonValueKind.False), $"{path}: {expected.ValueKind} vs {actual.ValueKind}");
                break;
        }
    }
}
