using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Npgsql;
using RwePortal.Application;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Testing;
using RwePortal.Warehouse.Loading;
using RwePortal.Warehouse.Sources;
using RwePortal.Warehouse.Synthetic;

namespace RwePortal.E2E.Tests.Infrastructure;

/// <summary>
/// The real portal, as users get it: the built RwePortal.Web started as its own process on a loopback port,
/// over a migrated and demo-seeded database on the private PostgreSQL cluster, driven by Debian's Chromium.
/// </summary>
public sealed class PortalFixture : IAsyncLifetime
{
    private readonly TestDatabase _database = new();
    private readonly StringBuilder _serverLog = new();
    private Process? _server;
    private IPlaywright? _playwright;

    public string BaseUrl { get; private set; } = "";

    public IBrowser Browser { get; private set; } = null!;

    public TestDatabase Database => _database;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string ScreenshotFolder { get; } = Path.Combine(RepositoryRoot, "test-results", "screenshots");

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await AppMigrator.MigrateAsync(_database.OwnerConnectionString);
        // The demo's warehouse, smaller: the seeder grants the registered sources to the demo tenants and sets their consent.
        await LoadWarehouseAsync();
        await DemoSeeder.RunAsync(_database.OwnerConnectionString);

        BaseUrl = $"http://127.0.0.1:{FreePort()}";
        StartServer();
        await WaitForHealthAsync();

        Directory.CreateDirectory(ScreenshotFolder);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
            ],
        });
    }

    /// <summary>Persons of the generated source (the demo has 20,000; fewer keep the run short).</summary>
    public const long SyntheticPersons = 3_000;

    public const long SyntheticSeed = 42;

    /// <summary>
    /// Registers and loads the demo's two sources as scripts/demo-warehouse.sh does, as the owner: <c>eunomia</c>
    /// (tests/data/eunomia-gibleed.tar.br) and <c>synthetic</c> (generated, every modality, seed 42).
    /// </summary>
    private async Task LoadWarehouseAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "rwe-e2e-eunomia-" + Guid.NewGuid().ToString("N"));
        await using var owner = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(_database.OwnerConnectionString) { CommandTimeout = 0 }.ConnectionString);
        try
        {
            await using (var compressed = File.OpenRead(Path.Combine(RepositoryRoot, "tests", "data", "eunomia-gibleed.tar.br")))
            await using (var tar = new BrotliStream(compressed, CompressionMode.Decompress))
            {
                Directory.CreateDirectory(folder);
                await TarFile.ExtractToDirectoryAsync(tar, folder, overwriteFiles: true);
            }

            var registry = new DataSourceRegistry(owner);
            await registry.AddAsync("eunomia", "OHDSI Eunomia GiBleed sample (Synthea, CDM 5.3)", CancellationToken.None);
            await new OmopCsvLoader(owner).LoadAsync("eunomia", folder, new OmopLoadOptions(), CancellationToken.None);
            await registry.AddAsync("synthetic", "Synthetic heart-failure population (docs/synthetic-data-model.md)", CancellationToken.None);
            await using var connection = await owner.OpenConnectionAsync();
            await SyntheticLoader.LoadAsync(connection, "synthetic", new SyntheticOptions(SyntheticPersons, SyntheticSeed), null, CancellationToken.None);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }

        _server?.Dispose();
        await _database.DisposeAsync();
    }

    /// <summary>A fresh browser context (own cookies) with a page on it.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
        });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    /// <summary>Creates an account with the demo password and roles in a demo tenant, straight in the database (arrangement, not under test).</summary>
    public async Task CreateUserAsync(string email, string tenantSlug, params TenantRole[] roles)
    {
        var services = new ServiceCollection().AddLogging().AddApplication(_database.OwnerConnectionString);
        services.AddRweIdentityCore();
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var contexts = scope.ServiceProvider.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using var db = await contexts.CreateDbContextAsync();
        var tenantId = await db.Tenants.Where(t => t.Slug == tenantSlug).Select(t => t.Id).SingleAsync();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = new ApplicationUser { UserName = email, Email = email, DisplayName = email.Split('@')[0], CurrentTenantId = tenantId };
        var result = await users.CreateAsync(user, DemoSeeder.Password);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(string.Join("; ", result.Errors.Select(e => e.Description)));
        }

        db.TenantMemberships.AddRange(roles.Select(role => new TenantMembership { TenantId = tenantId, UserId = user.Id, Role = role }));
        await db.SaveChangesAsync();
    }

    /// <summary>One value read as the owner role (the truth a test compares the portal's numbers with).</summary>
    public async Task<T> OwnerScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(_database.OwnerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, $"{name}.png"), FullPage = true });

    public string ServerLog
    {
        get
        {
            lock (_serverLog)
            {
                return _serverLog.ToString();
            }
        }
    }

    private void StartServer()
    {
        var web = Path.Combine(RepositoryRoot, "src", "RwePortal.Web");
        var dll = Path.Combine(web, "bin", BuildConfiguration, "net10.0", "RwePortal.Web.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"Build the portal first: {dll} is missing.", dll);
        }

        var start = PortalStartInfo(dll, BaseUrl, _database);

        _server = Process.Start(start) ?? throw new InvalidOperationException("Could not start the portal.");
        _server.OutputDataReceived += (_, e) => Append(e.Data);
        _server.ErrorDataReceived += (_, e) => Append(e.Data);
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
    }

    /// <summary>The portal process's pid, for tests of what the process holds.</summary>
    public int ServerProcessId => _server?.Id ?? throw new InvalidOperationException("The portal is not running.");

    /// <summary>
    /// How a test starts a portal process: as deployed, with the app role's and the warehouse reader's connections
    /// only. The test run's own environment (the owner's connection, every RWE_ and PG setting) is not inherited.
    /// </summary>
    public static ProcessStartInfo PortalStartInfo(string dll, string baseUrl, TestDatabase database)
    {
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(dll))))!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var name in start.Environment.Keys
            .Where(k => k.StartsWith("RWE_", StringComparison.Ordinal) || k.StartsWith("ConnectionStrings__", StringComparison.Ordinal) || k.StartsWith("PG", StringComparison.Ordinal))
            .ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["ASPNETCORE_URLS"] = baseUrl;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ConnectionStrings__App"] = database.AppConnectionString;
        start.Environment["ConnectionStrings__Warehouse"] = database.ReaderConnectionString;
        return start;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_serverLog)
        {
            _serverLog.AppendLine(line);
        }
    }

    private async Task WaitForHealthAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_server!.HasExited)
            {
                throw new InvalidOperationException($"The portal exited with {_server.ExitCode}:\n{ServerLog}");
            }

            try
            {
                var response = await http.GetAsync(new Uri($"{BaseUrl}/health"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The portal did not answer within 60 s:\n{ServerLog}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "RwePortal.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("RwePortal.sln not found above the test output.");
    }

#if DEBUG
    private const string BuildConfiguration = "Debug";
#else
    private const string BuildConfiguration = "Release";
#endif
}

[CollectionDefinition(Name)]
public sealed class PortalCollection : ICollectionFixture<PortalFixture>
{
    public const string Name = "portal";
}
