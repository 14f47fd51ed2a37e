using MediatR;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
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

    public TestCurrentUser CurrentUser { get; } = new();

    public TestDatabase Database => _database;

    public IServiceProvider Services => _provider ?? throw new InvalidOperationException("Fixture not initialised.");

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await AppMigrator.MigrateAsync(_database.OwnerConnectionString);

        var services = new ServiceCollection().AddLogging();
        services.AddApplication(_database.AppConnectionString);
        services.AddRweIdentityCore();
        services.AddScoped<DemoSeeder>();
        services.AddSingleton<ICurrentUser>(CurrentUser);
        _provider = services.BuildServiceProvider();

        await using var scope = _provider.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DemoSeeder>().SeedAsync();
    }

    public async Task DisposeAsync()
    {
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

    /// <summary>Makes a demo user the current user, with the claims the portal's sign-in would give them.</summary>
    public async Task<UserContext> SignInAsAsync(string email)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var factory = scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<ApplicationUser>>();
        var user = await users.FindByEmailAsync(email) ?? throw new InvalidOperationException($"No user {email}.");
        var principal = await factory.CreateAsync(user);
        CurrentUser.User = UserContextClaims.FromPrincipal(principal);
        return CurrentUser.User;
    }

    public async Task<AppDbContext> CreateDbContextAsync() =>
        await Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
}

/// <summary>The current user, set by each test.</summary>
public sealed class TestCurrentUser : ICurrentUser
{
    public UserContext User { get; set; } = UserContext.Anonymous;

    public Task<UserContext> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(User);
}

[CollectionDefinition(Name)]
public sealed class AppCollection : ICollectionFixture<AppFixture>
{
    public const string Name = "app database";
}
