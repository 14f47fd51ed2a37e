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
        Assert.Equal(43, await connection.ExecuteScalarAsync<long>(
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
}
