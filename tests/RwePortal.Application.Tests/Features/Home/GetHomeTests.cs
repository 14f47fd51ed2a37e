using RwePortal.Application.Data;
using RwePortal.Application.Features.Home;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Home;

[Collection(AppCollection.Name)]
public sealed class GetHomeTests(AppFixture fixture)
{
    private static readonly DemoTenant Acme = DemoSeeder.Tenants[0];

    [Fact]
    public async Task StudyLead_sees_their_tenant_role_and_protocol_steps_but_no_admin_steps()
    {
        await fixture.SignInAsAsync(DemoSeeder.Email(Acme, TenantRole.StudyLead));

        var home = (await fixture.SendAsync(new GetHome.Query())).Unwrap();

        Assert.Equal("Acme Pharma", home.TenantName);
        Assert.Equal(["StudyLead"], home.Roles);
        Assert.Contains(home.NextSteps, step => step.Title == "Author a protocol");
        Assert.DoesNotContain(home.NextSteps, step => step.Permission == Permission.ManageTenantUsers);
    }

    [Fact]
    public async Task An_analyst_is_offered_the_subgroup_builder_as_available_with_its_page()
    {
        await fixture.SignInAsAsync(DemoSeeder.Email(Acme, TenantRole.Analyst));

        var home = (await fixture.SendAsync(new GetHome.Query())).Unwrap();

        Assert.Contains(home.NextSteps, step => step.Title == "Build a subgroup" && step.Available && step.Href == "subgroups");
    }

    [Fact]
    public async Task TenantAdmin_sees_user_management_and_not_protocol_authoring()
    {
        await fixture.SignInAsAsync(DemoSeeder.Email(Acme, TenantRole.TenantAdmin));

        var home = (await fixture.SendAsync(new GetHome.Query())).Unwrap();

        Assert.Contains(home.NextSteps, step => step.Title == "Manage users" && step.Available);
        Assert.DoesNotContain(home.NextSteps, step => step.Permission == Permission.EditProtocols);
    }

    [Fact]
    public async Task Platform_admin_is_told_they_can_manage_tenants()
    {
        await fixture.SignInAsAsync(DemoSeeder.PlatformAdminEmail);

        var home = (await fixture.SendAsync(new GetHome.Query())).Unwrap();

        Assert.Contains("Admin", home.Roles);
        Assert.Contains(home.NextSteps, step => step.Permission == Permission.ManageTenants);
    }

    [Fact]
    public async Task A_user_without_a_role_in_any_tenant_is_refused_by_the_authorization_behaviour()
    {
        // Signed in, but holding no role: the pipeline refuses before the handler runs.
        fixture.CurrentUser.User = new UserContext(Guid.NewGuid(), "nobody@example.test", "Nobody", false, null, null, []);

        var result = await fixture.SendAsync(new GetHome.Query());

        Assert.False(result.Succeeded);
        Assert.Equal("Auth.Forbidden", result.Error!.Code);
    }

    [Fact]
    public async Task An_anonymous_caller_is_refused_as_unauthenticated()
    {
        fixture.CurrentUser.User = UserContext.Anonymous;

        var result = await fixture.SendAsync(new GetHome.Query());

        Assert.Equal("Auth.Unauthenticated", result.Error!.Code);
    }
}
