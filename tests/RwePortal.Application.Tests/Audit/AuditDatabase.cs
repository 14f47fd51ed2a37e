using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Audit;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Testing;

namespace RwePortal.Application.Tests.Audit;

/// <summary>
/// A migrated database of its own for the chain tests, which tamper with the trail (and so must not share the
/// collection's database), with an <see cref="IAuditTrail"/> writing as the portal's role.
/// </summary>
public sealed class AuditDatabase : IAsyncLifetime
{
    private ServiceProvider? _provider;

    public TestDatabase Database { get; } = new();

    public IAuditTrail Trail => _provider!.GetRequiredService<IAuditTrail>();

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        await AppMigrator.MigrateAsync(Database.OwnerConnectionString);
        var services = new ServiceCollection().AddLogging();
        services.AddApplication(Database.AppConnectionString);
        services.AddSingleton<ICurrentUser>(new FixedUser());
        _provider = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }

        await Database.DisposeAsync();
    }

    private sealed class FixedUser : ICurrentUser
    {
        public Task<UserContext> GetAsync(CancellationToken cancellationToken = default) => Task.FromResult(UserContext.Anonymous);
    }
}
