using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Cli.Tests.Support;
using RwePortal.Testing;
using RwePortal.Warehouse.Loading;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Cli.Tests.Validation;

/// <summary>
/// A migrated test database with the Eunomia GiBleed sample (tests/data/eunomia-gibleed.tar.br) loaded into source
/// <c>eunomia</c> by the OMOP CSV loader, research under a waiver, as the warehouse tests' Eunomia fixture loads it.
/// </summary>
public sealed class EunomiaCliFixture : IAsyncLifetime
{
    public const string Source = "eunomia";

    public TestDatabase Database { get; } = new();

    public string Folder { get; } = Directory.CreateTempSubdirectory("rwe-eunomia-cli-").FullName;

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        await AppMigrator.MigrateAsync(Database.OwnerConnectionString);
        var data = Path.Combine(Folder, "data");
        await using (var compressed = File.OpenRead(Path.Combine(Shell.Root, "tests", "data", "eunomia-gibleed.tar.br")))
        await using (var tar = new BrotliStream(compressed, CompressionMode.Decompress))
        {
            Directory.CreateDirectory(data);
            await TarFile.ExtractToDirectoryAsync(tar, data, overwriteFiles: true);
        }

        await using var dataSource = NpgsqlDataSource.Create(Database.OwnerConnectionString);
        await new DataSourceRegistry(dataSource).AddAsync(Source, "OHDSI Eunomia GiBleed sample", CancellationToken.None);
        await new OmopCsvLoader(dataSource).LoadAsync(Source, data, new OmopLoadOptions(), CancellationToken.None);
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            "INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES (@source, 'research', 'waiver', 'public synthetic sample', 'test')",
            new { source = Source });
    }

    public async Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
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

/// <summary>
/// docs/validation.md: `rwe run-protocol` on the validation protocol of the Eunomia celecoxib-versus-diclofenac example
/// gives the persons per arm, outcome events, person-time and unadjusted hazard ratio of the hand-written SQL
/// (docs/validation/eunomia-celecoxib-vs-diclofenac.sql, run here) and of R's coxph over that SQL's rows (the committed
/// output of docs/validation/eunomia-celecoxib-vs-diclofenac.R).
/// </summary>
public sealed class EunomiaValidationTests(EunomiaCliFixture fixture) : IClassFixture<EunomiaCliFixture>
{
    private static readonly string Validation = Path.Combine(Shell.Root, "docs", "validation");

    private sealed record PersonRow(long PersonId, int Treatment, DateOnly IndexDate, int Time, int Event);

    private sealed record Arm(int Persons, int Events, long PersonDays);

    /// <summary>The rows of the hand-written SQL, run as the owner on the test database's Eunomia schema.</summary>
    private async Task<List<PersonRow>> HandWrittenAsync()
    {
        var sql = await File.ReadAllTextAsync(Path.Combine(Validation, "eunomia-celecoxib-vs-diclofenac.sql"));
        await using var connection = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("SET LOCAL search_path = cdm_eunomia", transaction: transaction);
        var rows = (await connection.QueryAsync<PersonRow>(
            $"SELECT person_id AS PersonId, treatment AS Treatment, index_date AS IndexDate, time AS Time, event AS Event FROM (\n{sql}\n) hand",
            transaction: transaction)).ToList();
        await transaction.RollbackAsync();
        return rows;
    }

    /// <summary>R's figures as the script printed them: per arm persons, events and person-days, and the hazard ratio.</summary>
    private static (Arm Celecoxib, Arm Diclofenac, double HazardRatio, double Lower, double Upper) ROutput()
    {
        var text = File.ReadAllText(Path.Combine(Validation, "eunomia-celecoxib-vs-diclofenac.Rout"));
        Arm ArmOf(string name)
        {
            var m = Regex.Match(text, name + @"\s+persons (\d+) events (\d+) person_days (\d+)");
            Assert.True(m.Success, $"R output has no line for {name}");
            return new Arm(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
        }

        var hr = Regex.Match(text, @"robust \(clustered by person\) lower ([\d.]+) upper ([\d.]+)");
        var point = Regex.Match(text, @"hazard_ratio ([\d.]+)");
        Assert.True(hr.Success && point.Success, "R output has no hazard ratio");
        double D(Group g) => double.Parse(g.Value, CultureInfo.InvariantCulture);
        return (ArmOf("celecoxib"), ArmOf("diclofenac"), D(point.Groups[1]), D(hr.Groups[1]), D(hr.Groups[2]));
    }

    private static Arm Summarise(IEnumerable<PersonRow> rows, int treatment)
    {
        var arm = rows.Where(r => r.Treatment == treatment).ToList();
        return new Arm(arm.Count, arm.Sum(r => r.Event), arm.Sum(r => (long)r.Time));
    }

    [Fact]
    public async Task Run_protocol_on_eunomia_gives_the_hand_written_sql_s_persons_events_and_person_time_and_r_s_unadjusted_hazard_ratio()
    {
        var rows = await HandWrittenAsync();
        var celecoxib = Summarise(rows, 1);
        var diclofenac = Summarise(rows, 0);
        var r = ROutput();
        var output = Path.Combine(fixture.Folder, "result.json");

        var run = await Shell.RunAsync(
            "dotnet",
            [
                Path.Combine(Shell.Root, "src", "RwePortal.Cli", "bin", Shell.Configuration, "net10.0", "rwe.dll"),
                "run-protocol", "--source", EunomiaCliFixture.Source,
                "--protocol", Path.Combine(Validation, "eunomia-celecoxib-vs-diclofenac-itt.json"),
                "--out", output,
            ],
            new Dictionary<string, string?>
            {
                ["RWE_CS_OWNER"] = fixture.Database.OwnerConnectionString,
                ["RWE_CS_READER"] = fixture.Database.ReaderConnectionString,
                ["ConnectionStrings__Owner"] = null,
                ["ConnectionStrings__Warehouse"] = null,
            },
            TimeSpan.FromMinutes(5));

        Assert.True(run.ExitCode == 0, run.All);
        // The committed R figures were computed on these same rows: the hand SQL on this load reproduces R's input.
        Assert.Equal(r.Celecoxib, celecoxib);
        Assert.Equal(r.Diclofenac, diclofenac);
        Assert.True(celecoxib.Persons > 1000 && diclofenac.Persons > 500 && celecoxib.Events > 100 && diclofenac.Events > 50, $"{celecoxib} {diclofenac}");

        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        var arms = document.RootElement.GetProperty("arms");
        long Count(string name) => arms.GetProperty(name).GetProperty("value").GetInt64();
        Assert.Equal(celecoxib.Persons, Count("personsTreatment"));
        Assert.Equal(diclofenac.Persons, Count("personsComparator"));
        Assert.Equal(celecoxib.Events, Count("eventsTreatment"));
        Assert.Equal(diclofenac.Events, Count("eventsComparator"));
        Assert.Equal(celecoxib.PersonDays / 365.25, arms.GetProperty("personYearsTreatment").GetDouble(), 6);
        Assert.Equal(diclofenac.PersonDays / 365.25, arms.GetProperty("personYearsComparator").GetDouble(), 6);

        var unadjusted = document.RootElement.GetProperty("estimates").GetProperty("unadjustedHazardRatio");
        Assert.InRange(unadjusted.GetProperty("value").GetDouble(), r.HazardRatio - 1e-4, r.HazardRatio + 1e-4);
        // The unadjusted interval uses the robust variance clustered by person, as R's cluster(person_id) model.
        Assert.InRange(unadjusted.GetProperty("lower").GetDouble(), r.Lower - 1e-4, r.Lower + 1e-4);
        Assert.InRange(unadjusted.GetProperty("upper").GetDouble(), r.Upper - 1e-4, r.Upper + 1e-4);
    }
}
