using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using Npgsql;
using RwePortal.Testing;
using RwePortal.Warehouse.Loading;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Tests.Loading;

/// <summary>
/// A test database with the Eunomia GiBleed sample (tests/data/eunomia-gibleed.tar.br, OMOP CDM 5.3.1) loaded
/// once into source "eunomia" by the OMOP CSV loader, shared by the loading and data-quality tests.
/// </summary>
public sealed class EunomiaFixture : IAsyncLifetime
{
    public const string SourceName = "eunomia";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "rwe-eunomia-" + Guid.NewGuid().ToString("N"));

    public TestDatabase Database { get; } = new();

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public OmopLoadResult Load { get; private set; } = null!;

    public TimeSpan LoadTime { get; private set; }

    /// <summary>The folder the sample was extracted to.</summary>
    public string Folder => _folder;

    /// <summary>Rows per file as the sample's provenance manifest lists them.</summary>
    public IReadOnlyDictionary<string, long> ManifestRows { get; private set; } = new Dictionary<string, long>();

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        DataSource = NpgsqlDataSource.Create(Database.OwnerConnectionString);

        var archive = Path.Combine(AppContext.BaseDirectory, "data", "eunomia-gibleed.tar.br");
        await using (var compressed = File.OpenRead(archive))
        await using (var tar = new BrotliStream(compressed, CompressionMode.Decompress))
        {
            Directory.CreateDirectory(_folder);
            await TarFile.ExtractToDirectoryAsync(tar, _folder, overwriteFiles: true);
        }

        ManifestRows = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "data", "eunomia-gibleed-manifest.csv"))
            .Skip(1)
            .Select(line => line.Split(','))
            .ToDictionary(fields => fields[0], fields => long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture));

        await new DataSourceRegistry(DataSource).AddAsync(SourceName, "OHDSI Eunomia GiBleed sample", CancellationToken.None);
        var clock = Stopwatch.StartNew();
        Load = await new OmopCsvLoader(DataSource).LoadAsync(SourceName, _folder, new OmopLoadOptions(), CancellationToken.None);
        LoadTime = clock.Elapsed;
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await Database.DisposeAsync();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class EunomiaCollection : ICollectionFixture<EunomiaFixture>
{
    public const string Name = "Eunomia";
}
