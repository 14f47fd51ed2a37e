using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RwePortal.Application.Analyses;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse;
using RwePortal.Warehouse.Protocols;
using RwePortal.Warehouse.Sources;
using RwePortal.Warehouse.Synthetic;

namespace RwePortal.Application.Tests.Analyses;

/// <summary>
/// What the run-pipeline tests share: generated synthetic sources (each loaded once per test database, however many
/// classes use it), the documented example protocols, and the pipeline as the worker builds it, on a fixed clock.
/// </summary>
internal static class SyntheticRuns
{
    /// <summary>A noise key for policies that perturb, so shown counts are as a tenant would see them.</summary>
    public static readonly byte[] NoiseKey = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    private static readonly SemaphoreSlim Loading = new(1, 1);
    private static readonly HashSet<string> Loaded = [];

    /// <summary>Registers <paramref name="source"/> and generates <paramref name="persons"/> persons into it, once.</summary>
    public static async Task EnsureSourceAsync(AppFixture fixture, string source, int persons, int seed = 42)
    {
        var key = $"{fixture.Database.Name}/{source}";
        await Loading.WaitAsync();
        try
        {
            if (Loaded.Contains(key))
            {
                return;
            }

            await using var owner = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(fixture.Database.OwnerConnectionString) { CommandTimeout = 0 }.ConnectionString);
            var registry = new DataSourceRegistry(owner);
            if (await registry.FindAsync(source, CancellationToken.None) is null)
            {
                await registry.AddAsync(source, "synthetic source of the run pipeline tests", CancellationToken.None);
            }

            await using var connection = await owner.OpenConnectionAsync();
            await SyntheticLoader.LoadAsync(connection, source, new SyntheticOptions(persons, seed), null, CancellationToken.None);
            Loaded.Add(key);
        }
        finally
        {
            Loading.Release();
        }
    }

    /// <summary>An example protocol of docs/examples/protocols, parsed and checked valid.</summary>
    public static ProtocolDefinition Example(string file = "synthetic-arni-vs-enalapril.json")
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!Directory.Exists(Path.Combine(directory!.FullName, "docs", "examples", "protocols")))
        {
            directory = directory.Parent;
        }

        var parsed = ProtocolParser.Parse(File.ReadAllText(Path.Combine(directory.FullName, "docs", "examples", "protocols", file)));
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        return parsed.Protocol!;
    }

    /// <summary>The run pipeline with the services of <paramref name="services"/> and a clock fixed at 2026-11-30 12:00 UTC.</summary>
    public static ProtocolRunPipeline Pipeline(IServiceProvider services) => new(
        services.GetRequiredService<WarehouseConnections>(),
        services.GetRequiredService<IAnalysisSources>(),
        new WarehouseCovariateExtractor(),
        new FixedClock());

    private sealed class FixedClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    }
}
