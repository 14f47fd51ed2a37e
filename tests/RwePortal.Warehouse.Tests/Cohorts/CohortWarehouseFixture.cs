using System.Formats.Tar;
using System.IO.Compression;
using Dapper;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Testing;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Loading;
using RwePortal.Warehouse.Sources;
using RwePortal.Warehouse.Synthetic;

namespace RwePortal.Warehouse.Tests.Cohorts;

/// <summary>
/// One migrated database (so the consent filter exists) with two sources: <c>eunomia</c> (the Eunomia GiBleed sample,
/// under a research waiver) and <c>syn</c> (generated, with the generator's own consent records, opt-in). Counts run
/// as the read-only warehouse role through <see cref="WarehouseConnections"/>; arranging runs as the owner.
/// </summary>
public sealed class CohortWarehouseFixture : IAsyncLifetime
{
    public const string Eunomia = "eunomia";
    public const string Synthetic = "syn";
    public const long SyntheticPersons = 3_000;
    public const long SyntheticSeed = 42;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "rwe-cohorts-" + Guid.NewGuid().ToString("N"));

    public TestDatabase Database { get; } = new();

    public NpgsqlDataSource Owner { get; private set; } = null!;

    public WarehouseConnections Reader { get; private set; } = null!;

    public DataSource EunomiaSource { get; private set; } = null!;

    public DataSource SyntheticSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        await AppMigrator.MigrateAsync(Database.OwnerConnectionString);
        Owner = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(Database.OwnerConnectionString) { CommandTimeout = 0 }.ConnectionString);
        Reader = WarehouseConnections.Create(Database.ReaderConnectionString);

        var archive = Path.Combine(AppContext.BaseDirectory, "data", "eunomia-gibleed.tar.br");
        await using (var compressed = File.OpenRead(archive))
        await using (var tar = new BrotliStream(compressed, CompressionMode.Decompress))
        {
            Directory.CreateDirectory(_folder);
            await TarFile.ExtractToDirectoryAsync(tar, _folder, overwriteFiles: true);
        }

        var registry = new DataSourceRegistry(Owner);
        await registry.AddAsync(Eunomia, "Eunomia GiBleed sample", CancellationToken.None);
        await new OmopCsvLoader(Owner).LoadAsync(Eunomia, _folder, new OmopLoadOptions(), CancellationToken.None);
        await registry.AddAsync(Synthetic, "synthetic test source", CancellationToken.None);
        await using (var connection = await Owner.OpenConnectionAsync())
        {
            await SyntheticLoader.LoadAsync(connection, Synthetic, new SyntheticOptions(SyntheticPersons, SyntheticSeed), null, CancellationToken.None);
            await connection.ExecuteAsync(
                "INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES (@source, 'research', 'waiver', 'IRB-TEST-1', 'test')",
                new { source = Eunomia });
        }

        EunomiaSource = (await registry.FindAsync(Eunomia, CancellationToken.None))!;
        SyntheticSource = (await registry.FindAsync(Synthetic, CancellationToken.None))!;
    }

    /// <summary>Parses a definition the test expects to be valid (failing with the parser's errors otherwise).</summary>
    public static SubgroupDefinition Definition(string json)
    {
        var result = SubgroupDefinitionParser.Parse(json);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Definition!;
    }

    public Task<SubgroupCount> CountAsync(DataSource source, string json, string purpose = SubgroupCounter.DefaultPurpose) =>
        new SubgroupCounter(Reader).CountAsync(Definition(json), source, purpose, CancellationToken.None);

    /// <summary>A hand-written count, run as the owner (who sees every row).</summary>
    public async Task<long> OwnerCountAsync(string sql, object? parameters = null)
    {
        await using var connection = await Owner.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    public async Task OwnerSqlAsync(string sql, object? parameters = null)
    {
        await using var connection = await Owner.OpenConnectionAsync();
        await connection.ExecuteAsync(sql, parameters);
    }

    public async Task DisposeAsync()
    {
        await Reader.DisposeAsync();
        await Owner.DisposeAsync();
        await Database.DisposeAsync();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class CohortWarehouseCollection : ICollectionFixture<CohortWarehouseFixture>
{
    public const string Name = "Cohort warehouse";
}
