using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Tenancy;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Tenancy;

[Collection(AppCollection.Name)]
public sealed class ListMyTenantsTests(AppFixture fixture)
{
    [Fact]
    public async Task An_analyst_sees_only_the_tenant_they_belong_to()
    {
        await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.Analyst));

        var tenants = (await fixture.SendAsync(new ListMyTenants.Query())).Unwrap();

        var only = Assert.Single(tenants);
        Assert.Equal("Northwind Hospital", only.Name);
        Assert.True(only.IsCurrent);
    }

    [Fact]
    public async Task The_platform_admin_can_switch_to_every_active_tenant()
    {
        await fixture.SignInAsAsync(DemoSeeder.PlatformAdminEmail);

        var tenants = (await fixture.SendAsync(new ListMyTenants.Query())).Unwrap();

        await using var db = await fixture.CreateDbContextAsync();
        Assert.Equal(await db.Tenants.CountAsync(t => t.IsActive), tenants.Count);
    }
}
