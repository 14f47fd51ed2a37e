using Dapper;
using Npgsql;
using RwePortal.Testing;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Tests.Sources;

public sealed class DataSourceRegistryTests(TestDatabase database) : IClassFixture<TestDatabase>, IAsyncLifetime
{
    private NpgsqlDataSource _dataSource = null!;

    public Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(database.OwnerConnectionString);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _dataSource.DisposeAsync();

    [Fact]
    public async Task AddAsync_registers_the_source_and_creates_its_cdm_schema_with_all_tables()
    {
        var registry = new DataSourceRegistry(_dataSource);

        var added = await registry.AddAsync("registry_add", "a test source", CancellationToken.None);

        Assert.Equal("cdm_registry_add", added.SchemaName);
        Assert.Equal("5.4", added.CdmVersion);
        Assert.Equal("a test source", added.Description);
        Assert.Null(added.LoadedAt);
        Assert.Empty(added.RowCounts);
        await using var connection = await _dataSource.OpenConnectionAsync();
        Assert.Equal(43 + RwePortal.Warehouse.Cohorts.SubgroupAggregates.Tables.Count, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'cdm_registry_add'"));
        Assert.Contains(await registry.ListAsync(CancellationToken.None), s => s.Name == "registry_add");
    }

    [Fact]
    public async Task AddAsync_refuses_a_duplicate_name_and_names_that_would_not_be_a_valid_schema()
    {
        var registry = new DataSourceRegistry(_dataSource);
        await registry.AddAsync("registry_dup", string.Empty, CancellationToken.None);

        var duplicate = await Assert.ThrowsAsync<WarehouseException>(() => registry.AddAsync("registry_dup", string.Empty, CancellationToken.None));
        var upper = await Assert.ThrowsAsync<WarehouseException>(() => registry.AddAsync("Upper", string.Empty, CancellationToken.None));
        var injection = await Assert.ThrowsAsync<WarehouseException>(() => registry.AddAsync("x; drop schema app", string.Empty, CancellationToken.None));

        Assert.Equal("data source 'registry_dup' already exists", duplicate.Message);
        Assert.Contains("not a valid data source name", upper.Message, StringComparison.Ordinal);
        Assert.Contains("not a valid data source name", injection.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordLoadAsync_sets_loaded_at_and_merges_row_counts_by_table()
    {
        var registry = new DataSourceRegistry(_dataSource);
        await registry.AddAsync("registry_load", string.Empty, CancellationToken.None);

        await registry.RecordLoadAsync("registry_load", new Dictionary<string, long> { ["person"] = 10, ["measurement"] = 100 }, CancellationToken.None);
        await registry.RecordLoadAsync("registry_load", new Dictionary<string, long> { ["measurement"] = 250 }, CancellationToken.None);

        var source = await registry.FindAsync("registry_load", CancellationToken.None);
        Assert.NotNull(source?.LoadedAt);
        Assert.Equal(10, source.Persons);
        Assert.Equal(250, source.RowCounts["measurement"]);
        await Assert.ThrowsAsync<WarehouseException>(() =>
            registry.RecordLoadAsync("registry_missing", new Dictionary<string, long>(), CancellationToken.None));
    }

    [Fact]
    public async Task AddAsync_records_the_custodian_and_SetCustodianAsync_changes_it()
    {
        var registry = new DataSourceRegistry(_dataSource);
        var hospital = Guid.NewGuid();
        var registry2 = Guid.NewGuid();

        var added = await registry.AddAsync("registry_custodian", "held by a hospital", hospital, CancellationToken.None);
        await registry.SetCustodianAsync("registry_custodian", registry2, CancellationToken.None);

        Assert.Equal(hospital, added.CustodianTenantId);
        Assert.Equal(registry2, (await registry.FindAsync("registry_custodian", CancellationToken.None))!.CustodianTenantId);
        Assert.Null((await registry.AddAsync("registry_unheld", string.Empty, CancellationToken.None)).CustodianTenantId);
        await Assert.ThrowsAsync<WarehouseException>(() => registry.SetCustodianAsync("registry_missing", hospital, CancellationToken.None));
    }

    [Fact]
    public async Task Registration_lets_the_reader_role_read_the_new_sources_tables_but_not_the_registry()
    {
        var registry = new DataSourceRegistry(_dataSource);
        await registry.AddAsync("registry_reader", string.Empty, CancellationToken.None);
        await using (var owner = await _dataSource.OpenConnectionAsync())
        {
            await owner.ExecuteAsync(
                """
                INSERT INTO cdm_registry_reader.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
                VALUES (1, 8507, 1950, 0, 0), (2, 8532, 1960, 0, 0)
                """);
        }

        await using var reader = new NpgsqlConnection(database.ReaderConnectionString);
        await reader.OpenAsync();

        Assert.Equal(2, await reader.ExecuteScalarAsync<long>("SELECT count(*) FROM cdm_registry_reader.person"));
        Assert.Equal(0, await reader.ExecuteScalarAsync<long>("SELECT count(*) FROM cdm_registry_reader.condition_occurrence"));
        var registryRead = await Assert.ThrowsAsync<PostgresException>(() => reader.ExecuteScalarAsync<long>("SELECT count(*) FROM app.data_sources"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, registryRead.SqlState);
        var write = await Assert.ThrowsAsync<PostgresException>(() => reader.ExecuteAsync("DELETE FROM cdm_registry_reader.person"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, write.SqlState);
    }

    [Fact]
    public async Task Reads_create_nothing_and_ask_for_a_migration_on_an_unmigrated_database()
    {
        var fresh = new TestDatabase();
        await fresh.InitializeAsync();
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(fresh.OwnerConnectionString);
            var registry = new DataSourceRegistry(dataSource);

            var list = await Assert.ThrowsAsync<WarehouseException>(() => registry.ListAsync(CancellationToken.None));
            var find = await Assert.ThrowsAsync<WarehouseException>(() => registry.FindAsync("anything", CancellationToken.None));

            Assert.Contains("rwe migrate", list.Message, StringComparison.Ordinal);
            Assert.Contains("rwe migrate", find.Message, StringComparison.Ordinal);
            await using var connection = await dataSource.OpenConnectionAsync();
            Assert.Null(await connection.ExecuteScalarAsync<string?>("SELECT to_regclass('app.data_sources')::text"));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await fresh.DisposeAsync();
        }
    }
}
