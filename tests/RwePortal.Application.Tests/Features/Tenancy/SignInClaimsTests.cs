using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Tenancy;

[Collection(AppCollection.Name)]
public sealed class SignInClaimsTests(AppFixture fixture)
{
    [Fact]
    public async Task Seeding_twice_changes_nothing_and_keeps_one_membership_per_role()
    {
        await using (var scope = fixture.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<DemoSeeder>().SeedAsync();
        }

        // Other tests in this collection add tenants and users of their own: count the demo's.
        var slugs = DemoSeeder.Tenants.Select(t => t.Slug).ToList();
        var emails = DemoSeeder.Tenants
            .SelectMany(t => Enum.GetValues<TenantRole>().Select(role => DemoSeeder.Email(t, role)))
            .Append(DemoSeeder.PlatformAdminEmail)
            .Select(email => email.ToUpperInvariant())
            .ToList();
        await using var db = await fixture.CreateDbContextAsync();
        var demoTenants = db.Tenants.Where(t => slugs.Contains(t.Slug)).Select(t => t.Id).ToList();
        var demoUsers = db.Users.Where(u => emails.Contains(u.NormalizedEmail!)).Select(u => u.Id).ToList();
        Assert.Equal(2, demoTenants.Count);
        Assert.Equal(7, demoUsers.Count);
        var memberships = new List<(Guid TenantId, TenantRole Role)>();
        foreach (var user in demoUsers)
        {
            memberships.AddRange(await fixture.MembershipsOfAsync(user));
        }

        Assert.Equal(6, memberships.Count(m => demoTenants.Contains(m.TenantId)));
    }

    [Fact]
    public async Task Passwords_are_hashed_with_PBKDF2_at_OWASP_iterations()
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = await users.FindByEmailAsync(DemoSeeder.PlatformAdminEmail);

        // Identity v3 format: 0x01, PRF (2 = HMACSHA512), iteration count (big-endian), salt length, salt, subkey.
        var hash = Convert.FromBase64String(user!.PasswordHash!);
        Assert.Equal(0x01, hash[0]);
        Assert.Equal(2u, ReadUInt32(hash, 1));
        Assert.True(ReadUInt32(hash, 5) >= 210_000);
    }

    [Fact]
    public async Task Choosing_a_tenant_the_user_does_not_belong_to_falls_back_to_their_own()
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var analyst = await users.FindByEmailAsync(DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.Analyst));
        await using (var db = await fixture.CreateDbContextAsync())
        {
            analyst!.CurrentTenantId = db.Tenants.Single(t => t.Slug == "northwind").Id;
        }

        await users.UpdateAsync(analyst);
        var user = await fixture.SignInAsAsync(analyst.Email!);

        Assert.Equal("Acme Pharma", user.TenantName);
        Assert.Equal([TenantRole.Analyst], user.Roles);
    }

    private static uint ReadUInt32(byte[] buffer, int offset) =>
        (uint)(buffer[offset] << 24 | buffer[offset + 1] << 16 | buffer[offset + 2] << 8 | buffer[offset + 3]);
}
