using Npgsql;
using RwePortal.Testing;
using RwePortal.Warehouse.Sources;
using RwePortal.Warehouse.Synthetic;
using RwePortal.Warehouse.Tests.Synthetic;

namespace RwePortal.Warehouse.Tests.Ingest;

/// <summary>A fresh database with source <c>ing</c> holding 20 synthetic persons (person_source_value SYN0000001..SYN0000020).</summary>
public sealed class IngestFixture : IAsyncLifetime
{
    public const string Source = "ing";

    private readonly TestDatabase _database = new();

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public static string DataFile(string relative) => Path.Combine(VocabularySubsetTests.RepositoryRoot(), "tests", "data", relative);

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        DataSource = NpgsqlDataSource.Create(_database.OwnerConnectionString);
        await new DataSourceRegistry(DataSource).AddAsync(Source, "ingest tests", CancellationToken.None);
        await using var connection = await DataSource.OpenConnectionAsync();
        await SyntheticLoader.LoadAsync(connection, Source, new SyntheticOptions(20, 1), null, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await _database.DisposeAsync();
    }
}
