using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Security;

/// <summary>
/// The data-protection key ring (which protects the sign-in cookie) lives in app.data_protection_keys, written and
/// read by the portal's app role, so a restarted portal reads what the previous process protected.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class DataProtectionKeyTests(AppFixture fixture)
{
    [Fact]
    public async Task What_one_portal_process_protected_another_process_over_the_same_database_unprotects()
    {
        const string purpose = "Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationMiddleware";
        string protectedTicket;
        await using (var first = Portal())
        {
            protectedTicket = first.GetRequiredService<IDataProtectionProvider>().CreateProtector(purpose).Protect("signed-in session");
        }

        Assert.True(await KeyCountAsync() > 0);

        await using var restarted = Portal();
        var unprotected = restarted.GetRequiredService<IDataProtectionProvider>().CreateProtector(purpose).Unprotect(protectedTicket);

        Assert.Equal("signed-in session", unprotected);
    }

    [Fact]
    public async Task The_key_ring_is_in_the_database_and_the_reader_role_cannot_read_it()
    {
        await using (var portal = Portal())
        {
            portal.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Protect("x");
        }

        Assert.True(await KeyCountAsync() > 0);
        await using var reader = new NpgsqlConnection(fixture.Database.ReaderConnectionString);
        await reader.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT xml FROM app.data_protection_keys", reader);
        var denied = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
    }

    /// <summary>A fresh service provider wired as the portal wires it, on the app role: one "process".</summary>
    private ServiceProvider Portal()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddApplication(fixture.Database.AppConnectionString);
        services.AddSingleton<IUserContextSource>(fixture.CurrentUser);
        services.AddRweIdentityCore();
        return services.BuildServiceProvider();
    }

    /// <summary>Keys as the app role sees them (it must read and write the ring).</summary>
    private async Task<long> KeyCountAsync()
    {
        await using var connection = new NpgsqlConnection(fixture.Database.AppConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM app.data_protection_keys", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
