using Npgsql;
using RwePortal.Testing;
using RwePortal.Warehouse.Sources;
using RwePortal.Warehouse.Synthetic;

namespace RwePortal.Warehouse.Tests.Synthetic;

/// <summary>
/// One fresh database with three generated sources: <c>syn</c> (the analysis population), and <c>syn_a</c> and
/// <c>syn_b</c> (a smaller population generated twice with the same seed, for the determinism check).
/// </summary>
public sealed class SyntheticWarehouseFixture : IAsyncLifetime
{
    public const long AnalysisPersons = 10_000;
    public const long AnalysisSeed = 20261124;
    public const long RepeatPersons = 2_000;
    public const long RepeatSeed = 7;

    private readonly TestDatabase _database = new();

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public SyntheticLoadReport AnalysisReport { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        DataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(_database.OwnerConnectionString) { CommandTimeout = 0 }.ConnectionString);
        var registry = new DataSourceRegistry(DataSource);
        foreach (var name in new[] { "syn", "syn_a", "syn_b" })
        {
            await registry.AddAsync(name, "synthetic test source", CancellationToken.None);
        }

        await using var connection = await DataSource.OpenConnectionAsync();
        AnalysisReport = await SyntheticLoader.LoadAsync(connection, "syn", new SyntheticOptions(AnalysisPersons, AnalysisSeed), null, CancellationToken.None);
        await SyntheticLoader.LoadAsync(connection, "syn_a", new SyntheticOptions(RepeatPersons, RepeatSeed, BatchSize: 700), null, CancellationToken.None);
        await SyntheticLoader.LoadAsync(connection, "syn_b", new SyntheticOptions(RepeatPersons, RepeatSeed, BatchSize: 333, Parallelism: 1), null, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await _database.DisposeAsync();
    }
}
