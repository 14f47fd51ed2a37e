using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace RwePortal.Application.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running portal.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AppDbContext>
{
    public AppDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<AppDbContext>();
        AppDatabase.Configure(options, Environment.GetEnvironmentVariable("RWE_CS_OWNER") ?? "Host=localhost");
        return new AppDbContext(options.Options);
    }
}
