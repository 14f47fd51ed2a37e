using Microsoft.EntityFrameworkCore;

namespace RwePortal.Application.Data;

/// <summary>How every AppDbContext is configured (portal, CLI, design time and tests alike).</summary>
public static class AppDatabase
{
    public static void Configure(DbContextOptionsBuilder options, string connectionString) =>
        options
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", AppDbContext.Schema))
            .UseSnakeCaseNamingConvention()
            .AddInterceptors(TenantSessionInterceptor.Instance);
}
