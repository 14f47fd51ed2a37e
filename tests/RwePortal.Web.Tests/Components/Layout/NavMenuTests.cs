using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using RwePortal.Application.Security;
using RwePortal.Web.Components.Layout;

namespace RwePortal.Web.Tests.Components.Layout;

public sealed class NavMenuTests : BunitContext
{
    public NavMenuTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    private static UserContext User(bool platformAdmin, params TenantRole[] roles) =>
        new(Guid.NewGuid(), "user@example.test", "User", platformAdmin, Guid.NewGuid(), "Acme Pharma", roles);

    [Fact]
    public void A_tenant_admin_sees_the_administration_entries_for_their_tenant()
    {
        var cut = Render<NavMenu>(parameters => parameters.AddCascadingValue(User(false, TenantRole.TenantAdmin)));

        Assert.NotEmpty(cut.FindAll("[data-testid=nav-group-admin]"));
        Assert.NotEmpty(cut.FindAll("[data-testid=nav-users]"));
        Assert.NotEmpty(cut.FindAll("[data-testid=nav-audit]"));
        Assert.Empty(cut.FindAll("[data-testid=nav-tenants]"));
    }

    [Fact]
    public void A_platform_admin_sees_tenants_and_data_sources()
    {
        var cut = Render<NavMenu>(parameters => parameters.AddCascadingValue(User(true)));

        Assert.NotEmpty(cut.FindAll("[data-testid=nav-tenants]"));
        Assert.NotEmpty(cut.FindAll("[data-testid=nav-sources]"));
    }

    [Fact]
    public void An_analyst_sees_no_administration_entries()
    {
        var cut = Render<NavMenu>(parameters => parameters.AddCascadingValue(User(false, TenantRole.Analyst)));

        Assert.Empty(cut.FindAll("[data-testid=nav-group-admin]"));
        Assert.Empty(cut.FindAll("[data-testid^=nav-users]"));
        Assert.NotEmpty(cut.FindAll("[data-testid=nav-home]"));
    }

    [Theory]
    [InlineData(TenantRole.Analyst)]
    [InlineData(TenantRole.StudyLead)]
    public void Analysts_and_study_leads_find_subgroups_in_the_navigation(TenantRole role)
    {
        var cut = Render<NavMenu>(parameters => parameters.AddCascadingValue(User(false, role)));

        Assert.Equal("subgroups", cut.Find("[data-testid=nav-subgroups]").GetAttribute("href"));
    }

    [Fact]
    public void A_tenant_admin_has_no_subgroups_entry()
    {
        var cut = Render<NavMenu>(parameters => parameters.AddCascadingValue(User(false, TenantRole.TenantAdmin)));

        Assert.Empty(cut.FindAll("[data-testid=nav-subgroups]"));
    }
}
