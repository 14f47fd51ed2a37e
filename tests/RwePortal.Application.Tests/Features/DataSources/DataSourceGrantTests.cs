using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Data;
using RwePortal.Application.Features.DataSources;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.DataSources;

/// <summary>Granting registered data sources to tenants for named purposes, and what each tenant then sees.</summary>
[Collection(AppCollection.Name)]
public sealed class DataSourceGrantTests(AppFixture fixture) : IAsyncLifetime
{
    private Guid _acme;
    private Guid _northwind;

    public async Task InitializeAsync()
    {
        _acme = await fixture.TenantIdAsync("acme");
        _northwind = await fixture.TenantIdAsync("northwind");
        await fixture.SignInAsAsync(DemoSeeder.PlatformAdminEmail);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Granting_lists_the_grant_under_its_source_with_the_purposes_in_canonical_order()
    {
        var source = await fixture.AddDataSourceAsync();

        var granted = (await fixture.SendAsync(new GrantDataSource.Command(
            source, _acme, [DataPurposes.GenomicResearch, DataPurposes.Research, DataPurposes.Research]))).Unwrap();
        var listed = (await fixture.SendAsync(new ListDataSources.Query())).Unwrap();

        Assert.Equal([DataPurposes.Research, DataPurposes.GenomicResearch], granted.Purposes);
        var item = Assert.Single(listed, s => s.Id == source);
        Assert.Equal(1234, item.Persons);
        var grant = Assert.Single(item.Grants);
        Assert.Equal("Acme Pharma", grant.TenantName);
        Assert.Equal([DataPurposes.Research, DataPurposes.GenomicResearch], grant.Purposes);
        await using var db = await fixture.CreateDbContextAsync(_acme);
        var admin = await fixture.FindUserAsync(DemoSeeder.PlatformAdminEmail);
        Assert.Equal(admin.Id, await db.DataSourceGrants.Where(g => g.DataSourceId == source).Select(g => g.GrantedBy).SingleAsync());
    }

    [Fact]
    public async Task Granting_again_replaces_the_purposes_and_revoking_removes_the_grant()
    {
        var source = await fixture.AddDataSourceAsync();
        await fixture.SendAsync(new GrantDataSource.Command(source, _northwind, [DataPurposes.Research]));

        (await fixture.SendAsync(new GrantDataSource.Command(source, _northwind, [DataPurposes.Recontact]))).Unwrap();
        var afterRegrant = (await fixture.SendAsync(new ListDataSources.Query())).Unwrap().Single(s => s.Id == source);
        (await fixture.SendAsync(new RevokeDataSourceGrant.Command(source, _northwind))).Unwrap();
        var afterRevoke = (await fixture.SendAsync(new ListDataSources.Query())).Unwrap().Single(s => s.Id == source);
        var again = await fixture.SendAsync(new RevokeDataSourceGrant.Command(source, _northwind));

        Assert.Equal([DataPurposes.Recontact], Assert.Single(afterRegrant.Grants).Purposes);
        Assert.Empty(afterRevoke.Grants);
        Assert.Equal("Grant.NotFound", again.Error!.Code);
    }

    [Fact]
    public async Task Unknown_purposes_and_empty_purposes_fail_validation()
    {
        var source = await fixture.AddDataSourceAsync();

        var unknown = await fixture.SendAsync(new GrantDataSource.Command(source, _acme, ["marketing"]));
        var empty = await fixture.SendAsync(new GrantDataSource.Command(source, _acme, []));

        Assert.Equal("Validation.Failed", unknown.Error!.Code);
        Assert.Equal("Validation.Failed", empty.Error!.Code);
    }

    [Fact]
    public async Task Unknown_source_or_tenant_ids_are_not_found()
    {
        var source = await fixture.AddDataSourceAsync();

        var noSource = await fixture.SendAsync(new GrantDataSource.Command(Guid.NewGuid(), _acme, [DataPurposes.Research]));
        var noTenant = await fixture.SendAsync(new GrantDataSource.Command(source, Guid.NewGuid(), [DataPurposes.Research]));

        Assert.Equal("DataSource.NotFound", noSource.Error!.Code);
        Assert.Equal("Tenant.NotFound", noTenant.Error!.Code);
    }

    [Fact]
    public async Task Each_tenant_sees_only_the_sources_granted_to_it()
    {
        var both = await fixture.AddDataSourceAsync();
        var acmeOnly = await fixture.AddDataSourceAsync();
        await fixture.SendAsync(new GrantDataSource.Command(both, _acme, [DataPurposes.Research]));
        await fixture.SendAsync(new GrantDataSource.Command(both, _northwind, [DataPurposes.WearableResearch]));
        await fixture.SendAsync(new GrantDataSource.Command(acmeOnly, _acme, [DataPurposes.CommercialResearch]));

        await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.Analyst));
        var acme = (await fixture.SendAsync(new ListGrantedDataSources.Query())).Unwrap();
        await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.Analyst));
        var northwind = (await fixture.SendAsync(new ListGrantedDataSources.Query())).Unwrap();

        Assert.Contains(acme, s => s.DataSourceId == both && s.Purposes.SequenceEqual([DataPurposes.Research]));
        Assert.Contains(acme, s => s.DataSourceId == acmeOnly);
        Assert.Contains(northwind, s => s.DataSourceId == both && s.Purposes.SequenceEqual([DataPurposes.WearableResearch]));
        Assert.DoesNotContain(northwind, s => s.DataSourceId == acmeOnly);
    }

    [Theory]
    [InlineData("tenantadmin@acme.test")]
    [InlineData("studylead@northwind.test")]
    public async Task Tenant_users_cannot_list_or_grant_data_sources(string email)
    {
        var source = await fixture.AddDataSourceAsync();
        await fixture.SignInAsAsync(email);

        var list = await fixture.SendAsync(new ListDataSources.Query());
        var grant = await fixture.SendAsync(new GrantDataSource.Command(source, _acme, [DataPurposes.Research]));
        var revoke = await fixture.SendAsync(new RevokeDataSourceGrant.Command(source, _acme));

        Assert.Equal("Auth.Forbidden", list.Error!.Code);
        Assert.Equal("Auth.Forbidden", grant.Error!.Code);
        Assert.Equal("Auth.Forbidden", revoke.Error!.Code);
    }
}
