using System.Security.Claims;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Testing;

namespace RwePortal.Application.Tests.Infrastructure;

/// <summary>
/// A migrated app database on the real PostgreSQL cluster, seeded with the demo tenants and users, and the
/// application's services wired as the portal wires them (the portal's app role, not the owner).
/// </summary>
public sealed class AppFixture : IAsyncLifetime
{
    private readonly TestDatabase _database = new();
    private ServiceProvider? _provider;
    private SignInHost? _signIns;

    public TestCurrentUser CurrentUser { get; } = new();

    public TestDatabase Database => _database;

    public IServiceProvider Services => _provider ?? throw new InvalidOperationException("Fixture not initialised.");

    /// <summary>Identity's sign-in as the portal wires it, for tests of what a session may do.</summary>
    public SignInHost SignIns => _signIns ??= new SignInHost(this);

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await AppMigrator.MigrateAsync(_database.OwnerConnectionString);

        var services = new ServiceCollection().AddLogging();
        services.AddApplication(_database.AppConnectionString, _database.ReaderConnectionString);
        services.AddRweIdentityCore();
        services.AddScoped<DemoSeeder>();
        services.AddSingleton<IUserContextSource>(CurrentUser);
        _provider = services.BuildServiceProvider();

        await using var scope = _provider.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DemoSeeder>().SeedAsync();
    }

    public async Task DisposeAsync()
    {
        if (_signIns is not null)
        {
            await _signIns.DisposeAsync();
        }

        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    /// <summary>Sends a request through the mediator and the whole pipeline, as the current test user.</summary>
    public async Task<TResponse> SendAsync<TResponse>(IRequest<TResponse> request)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }

    /// <summary>
    /// Makes a user the current user, with the claims the portal's sign-in would give them. Users with a second
    /// factor turned on sign in with it (as the portal requires), unless <paramref name="secondFactor"/> says otherwise.
    /// </summary>
    public async Task<UserContext> SignInAsAsync(string email, bool? secondFactor = null)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var factory = scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<ApplicationUser>>();
        var user = await users.FindByEmailAsync(email) ?? throw new InvalidOperationException($"No user {email}.");
        var principal = await factory.CreateAsync(user);
        var method = (secondFactor ?? user.TwoFactorEnabled) ? SecondFactor.MultiFactorMethod : "pwd";
        ((ClaimsIdentity)principal.Identity!).AddClaim(new Claim(RweClaims.AuthenticationMethod, method));
        CurrentUser.User = UserContextClaims.FromPrincipal(principal);
        return CurrentUser.User;
    }

    /// <summary>A context bound to no tenant (Identity's view: users, tenants, memberships).</summary>
    public async Task<AppDbContext> CreateDbContextAsync() =>
        await Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();

    /// <summary>A context bound to one tenant, as handlers get it.</summary>
    public async Task<AppDbContext> CreateDbContextAsync(Guid tenantId)
    {
        var context = await CreateDbContextAsync();
        context.BindTo(TenantScope.For(tenantId));
        return context;
    }

    /// <summary>Runs SQL as the owner role (arranging what a test needs, e.g. a trigger that makes a step fail).</summary>
    public async Task OwnerSqlAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database.OwnerConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync(sql);
    }

    /// <summary>One row read as the owner role (what is really stored, whatever row-level security shows the portal).</summary>
    public async Task<T> OwnerSqlRowAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(_database.OwnerConnectionString);
        await connection.OpenAsync();
        return await connection.QuerySingleAsync<T>(sql, parameters);
    }

    /// <summary>Every membership of a user in every tenant, read as the owner role (what is really stored).</summary>
    public async Task<List<(Guid TenantId, TenantRole Role)>> MembershipsOfAsync(Guid userId)
    {
        await using var connection = new NpgsqlConnection(_database.OwnerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT tenant_id, role FROM app.tenant_memberships WHERE user_id = @user ORDER BY role", connection);
        command.Parameters.AddWithValue("user", userId);
        var memberships = new List<(Guid, TenantRole)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            memberships.Add((reader.GetGuid(0), Enum.Parse<TenantRole>(reader.GetString(1))));
        }

        return memberships;
    }

    public async Task<Guid> TenantIdAsync(string slug)
    {
        await using var db = await CreateDbContextAsync();
        return await db.Tenants.Where(t => t.Slug == slug).Select(t => t.Id).SingleAsync();
    }

    /// <summary>Registers a data source as the warehouse would (a row of app.data_sources, owner role).</summary>
    public async Task<Guid> AddDataSourceAsync(string? name = null)
    {
        name ??= $"src_{Guid.NewGuid():N}"[..16];
        await using var connection = new NpgsqlConnection(_database.OwnerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO app.data_sources (name, description, cdm_version, schema_name, row_counts)
            VALUES (@name, 'Test source', '5.4', 'cdm_' || @name, '{"person": 1234}')
            RETURNING id
            """,
            connection);
        command.Parameters.AddWithValue("name", name);
        return (Guid)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Creates a user with roles in a tenant (directly, not through the slices under test).</summary>
    public async Task<ApplicationUser> CreateUserAsync(string email, Guid tenantId, params TenantRole[] roles)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = new ApplicationUser { UserName = email, Email = email, DisplayName = $"Test {email}", CurrentTenantId = tenantId };
        var result = await users.CreateAsync(user, DemoSeeder.Password);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(string.Join("; ", result.Errors.Select(e => e.Description)));
        }

        await using var db = await CreateDbContextAsync(tenantId);
        db.TenantMemberships.AddRange(roles.Select(role => new TenantMembership { TenantId = tenantId, UserId = user.Id, Role = role }));
        await db.SaveChangesAsync();
        return user;
    }

    public async Task<ApplicationUser> FindUserAsync(string email)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        return await users.FindByEmailAsync(email) ?? throw new InvalidOperationException($"No user {email}.");
    }

    public static string UniqueEmail(string prefix, string domain = "acme.test") => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)] + "@" + domain;
}

/// <summary>The current user, set by each test.</summary>
public sealed class TestCurrentUser : IUserContextSource
{
    public UserContext User { get; set; } = UserContext.Anonymous;

    public Task<UserContext> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(User);
}

[CollectionDefinition(Name)]
public sealed class AppCollection : ICollectionFixture<AppFixture>
{
    public const string Name = "app database";
}
