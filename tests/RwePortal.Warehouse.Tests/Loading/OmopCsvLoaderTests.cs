using Dapper;
using Npgsql;
using RwePortal.Testing;
using RwePortal.Warehouse.Loading;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Tests.Loading;

public sealed class OmopCsvLoaderTests(TestDatabase database) : IClassFixture<TestDatabase>, IAsyncLifetime
{
    private const string PersonHeader = "person_id,gender_concept_id,year_of_birth,race_concept_id,ethnicity_concept_id";
    private const string PeriodHeader = "observation_period_id,person_id,observation_period_start_date,observation_period_end_date,period_type_concept_id";

    private NpgsqlDataSource _dataSource = null!;
    private string _source = null!;

    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(database.OwnerConnectionString);
        _source = "loader_" + Guid.NewGuid().ToString("N")[..8];
        await new DataSourceRegistry(_dataSource).AddAsync(_source, "loader tests", CancellationToken.None);
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    public static TheoryData<string, string[], string> BadFiles => new()
    {
        {
            "unknown column",
            [PersonHeader + ",shoe_size", "1,8507,1970,0,0,42"],
            "person.csv:1: column shoe_size: unknown column: table person has no such column"
        },
        {
            "text in a number field",
            [PersonHeader, "1,8507,1970,0,0", "2,8532,nineteen-eighty,0,0"],
            "person.csv:3: column year_of_birth: 'nineteen-eighty' is not an integer"
        },
        {
            "missing required value",
            [PersonHeader, "1,,1970,0,0"],
            "person.csv:2: column gender_concept_id: required value is missing (gender_concept_id is NOT NULL)"
        },
        {
            "wrong column count",
            [PersonHeader, "1,8507,1970,0,0", "2,8532,1980,0"],
            "person.csv:3: column ethnicity_concept_id: wrong number of fields: the header has 5, this record has 4"
        },
        {
            "required column missing from the header",
            ["person_id,gender_concept_id,year_of_birth,race_concept_id", "1,8507,1970,0"],
            "person.csv:1: column ethnicity_concept_id: required column is missing from the header"
        },
        {
            "value longer than its varchar",
            [PersonHeader + ",gender_source_value", "1,8507,1970,0,0," + new string('x', 51)],
            "person.csv:2: column gender_source_value: value has 51 characters, more than the 50 that varchar(50) holds"
        },
        {
            "integer out of range",
            [PersonHeader, "1,8507,1970,99999999999,0"],
            "person.csv:2: column race_concept_id: '99999999999' is out of range for integer"
        },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task A_bad_person_file_aborts_the_whole_load_naming_file_line_column_and_reason_and_changes_nothing(
        string kind,
        string[] personLines,
        string expected)
    {
        await LoadGoodDataAsync();
        var before = await CountsAsync();
        using var folder = new TemporaryFolder()
            .Write("observation_period.csv", PeriodHeader, "10,1,2000-01-01,2020-12-31,32880", "11,2,2000-01-01,2020-12-31,32880")
            .Write("person.csv", personLines);

        // --replace empties the tables first, inside the same transaction: a failure must undo that too.
        var error = await Assert.ThrowsAsync<OmopLoadException>(() => LoadAsync(folder, replace: true));

        Assert.True(expected == error.Message, $"{kind}: got \"{error.Message}\"");
        Assert.Equal(before, await CountsAsync());
    }

    [Theory]
    [InlineData("2020-13-01", "'2020-13-01' is not a date (expected YYYY-MM-DD or YYYYMMDD)")]
    [InlineData("31/01/2020", "'31/01/2020' is not a date (expected YYYY-MM-DD or YYYYMMDD)")]
    [InlineData("2020-01-31 13:45:00", "'2020-01-31 13:45:00' is not a date (expected YYYY-MM-DD or YYYYMMDD)")]
    public async Task A_bad_date_aborts_the_load_naming_the_line_and_leaves_earlier_files_unloaded(string date, string reason)
    {
        var before = await CountsAsync();
        using var folder = new TemporaryFolder()
            .Write("PERSON.csv", PersonHeader, "1,8507,1970,0,0", "2,8532,1980,0,0")
            .Write("observation_period.csv", PeriodHeader, "10,1,2000-01-01,2020-12-31,32880", $"11,2,{date},2020-12-31,32880");

        var error = await Assert.ThrowsAsync<OmopLoadException>(() => LoadAsync(folder));

        Assert.Equal($"observation_period.csv:3: column observation_period_start_date: {reason}", error.Message);
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Loading_into_tables_that_have_rows_is_refused_without_replace()
    {
        await LoadGoodDataAsync();
        var before = await CountsAsync();
        using var folder = new TemporaryFolder().Write("person.csv", PersonHeader, "3,8507,1970,0,0");

        var error = await Assert.ThrowsAsync<WarehouseException>(() => LoadAsync(folder));

        Assert.Contains("already has rows", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Upper_case_files_and_headers_iso_date_forms_and_empty_fields_as_null_load()
    {
        using var folder = new TemporaryFolder()
            .Write(
                "PERSON.CSV",
                "PERSON_ID,Gender_Concept_Id,YEAR_OF_BIRTH,RACE_CONCEPT_ID,ETHNICITY_CONCEPT_ID,BIRTH_DATETIME,PERSON_SOURCE_VALUE",
                "1,8507,1970,0,0,1970-05-06 07:08:09,\"Smith, J.\"",
                "2,8532,1980,0,0,1980-01-31T13:45:00,",
                "3,8532,1990,0,0,19900131,")
            .Write(
                "measurement.csv",
                "measurement_id,person_id,measurement_concept_id,measurement_date,measurement_type_concept_id,value_as_number",
                "1,1,3004410,20200131,32817,6.5",
                "2,2,3004410,2020-01-31,32817,",
                "3,3,3004410,2020-02-01,32817,1.5e1");

        var result = await LoadAsync(folder, replace: true);

        Assert.Equal(3, result.Tables.Single(t => t.Table == "person").Rows);
        await using var connection = await _dataSource.OpenConnectionAsync();
        var people = (await connection.QueryAsync<(long Id, DateTime? Birth, string? Source)>(
            $"SELECT person_id, birth_datetime, person_source_value FROM cdm_{_source}.person ORDER BY person_id")).ToList();
        Assert.Equal(new DateTime(1970, 5, 6, 7, 8, 9), people[0].Birth);
        Assert.Equal("Smith, J.", people[0].Source);
        Assert.Equal(new DateTime(1980, 1, 31, 13, 45, 0), people[1].Birth);
        Assert.Null(people[1].Source);
        Assert.Equal(new DateTime(1990, 1, 31), people[2].Birth);
        var values = (await connection.QueryAsync<decimal?>(
            $"SELECT value_as_number FROM cdm_{_source}.measurement ORDER BY measurement_id")).ToList();
        Assert.Equal([6.5m, null, 15m], values);
        Assert.Equal(
            new DateTime(2020, 1, 31),
            await connection.ExecuteScalarAsync<DateTime>($"SELECT measurement_date FROM cdm_{_source}.measurement WHERE measurement_id = 1"));
    }

    [Fact]
    public async Task A_cdm_53_visit_file_with_old_column_names_loads_into_the_54_columns_and_new_columns_are_null()
    {
        using var folder = new TemporaryFolder()
            .Write(
                "visit_occurrence.csv",
                "visit_occurrence_id,person_id,visit_concept_id,visit_start_date,visit_end_date,visit_type_concept_id,admitting_source_concept_id,admitting_source_value,discharge_to_concept_id,discharge_to_source_value",
                "1,1,9201,2020-01-01,2020-01-03,32817,8870,ER,581476,home")
            .Write(
                "visit_detail.csv",
                "visit_detail_id,person_id,visit_detail_concept_id,visit_detail_start_date,visit_detail_end_date,visit_detail_type_concept_id,visit_occurrence_id,visit_detail_parent_id",
                "5,1,9201,2020-01-01,2020-01-02,32817,1,4")
            .Write(
                "cdm_source.csv",
                "cdm_source_name,cdm_source_abbreviation,cdm_holder,source_release_date,cdm_release_date,cdm_version,vocabulary_version",
                "Test,T,Us,2020-01-01,2020-01-01,v5.3.1,v5");

        await LoadAsync(folder, replace: true);

        await using var connection = await _dataSource.OpenConnectionAsync();
        var visit = await connection.QuerySingleAsync<(int? From, string? FromValue, int? To, string? ToValue, long? Preceding)>(
            $"SELECT admitted_from_concept_id, admitted_from_source_value, discharged_to_concept_id, discharged_to_source_value, preceding_visit_occurrence_id FROM cdm_{_source}.visit_occurrence");
        Assert.Equal((8870, "ER", 581476, "home", null), visit);
        Assert.Equal(4, await connection.ExecuteScalarAsync<int>($"SELECT parent_visit_detail_id FROM cdm_{_source}.visit_detail"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>($"SELECT cdm_version_concept_id FROM cdm_{_source}.cdm_source"));
    }

    [Fact]
    public async Task A_missing_folder_or_unknown_source_is_an_expected_failure()
    {
        using var folder = new TemporaryFolder();
        var loader = new OmopCsvLoader(_dataSource);

        var noSource = await Assert.ThrowsAsync<WarehouseException>(() =>
            loader.LoadAsync("no_such_source", folder.Path, new OmopLoadOptions(), CancellationToken.None));
        var noFiles = await Assert.ThrowsAsync<WarehouseException>(() =>
            loader.LoadAsync(_source, folder.Path, new OmopLoadOptions(), CancellationToken.None));

        Assert.Contains("does not exist", noSource.Message, StringComparison.Ordinal);
        Assert.Contains("has no CSV file named like a table", noFiles.Message, StringComparison.Ordinal);
    }

    private async Task LoadGoodDataAsync()
    {
        using var folder = new TemporaryFolder()
            .Write("person.csv", PersonHeader, "1,8507,1970,0,0", "2,8532,1980,0,0")
            .Write("observation_period.csv", PeriodHeader, "10,1,2000-01-01,2020-12-31,32880", "11,2,2000-01-01,2020-12-31,32880");
        await LoadAsync(folder, replace: true);
    }

    private Task<OmopLoadResult> LoadAsync(TemporaryFolder folder, bool replace = false) =>
        new OmopCsvLoader(_dataSource).LoadAsync(_source, folder.Path, new OmopLoadOptions(replace), CancellationToken.None);

    private async Task<string> CountsAsync()
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        var persons = await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM cdm_{_source}.person");
        var periods = await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM cdm_{_source}.observation_period");
        var recorded = await connection.ExecuteScalarAsync<string>("SELECT row_counts::text FROM app.data_sources WHERE name = @name", new { name = _source });
        return $"person={persons} observation_period={periods} registry={recorded}";
    }
}
