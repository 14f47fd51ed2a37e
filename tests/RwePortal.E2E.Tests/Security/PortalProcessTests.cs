using Npgsql;
using RwePortal.E2E.Tests.Infrastructure;

namespace RwePortal.E2E.Tests.Security;

/// <summary>The running portal holds the app role's and the warehouse reader's credentials, never the owner's.</summary>
[Collection(PortalCollection.Name)]
public sealed class PortalProcessTests(PortalFixture portal)
{
    [Fact]
    public async Task The_portal_process_environment_carries_no_owner_credentials()
    {
        var environment = (await File.ReadAllTextAsync($"/proc/{portal.ServerProcessId}/environ")).Split('\0');
        var ownerPassword = new NpgsqlConnectionStringBuilder(portal.Database.OwnerConnectionString).Password!;

        Assert.Contains(environment, v => v.StartsWith("ConnectionStrings__App=", StringComparison.Ordinal));
        Assert.DoesNotContain(environment, v => v.Contains(ownerPassword, StringComparison.Ordinal));
        Assert.DoesNotContain(environment, v => v.StartsWith("ConnectionStrings__Owner=", StringComparison.Ordinal));
        Assert.DoesNotContain(environment, v => v.StartsWith("RWE_", StringComparison.Ordinal));
    }
}
