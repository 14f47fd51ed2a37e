using Microsoft.Playwright;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Features.Audit;

/// <summary>
/// The audit trail's CSV comes from the portal's export endpoint (not a data: URL): a tenant admin's link carries the page's
/// filter and downloads only their tenant's events; an analyst, who may not view the audit trail, gets no file.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class AuditExportTests(PortalFixture portal)
{
    private static readonly string AcmeAdmin = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.TenantAdmin);
    private static readonly string AcmeAnalyst = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.Analyst);

    private async Task<IPage> SignedInAsync(string email)
    {
        var page = await portal.NewPageAsync();
        await new LoginPage(page).OpenAsync();
        await new LoginPage(page).SignInAsync(email, DemoSeeder.Password);
        await Expect(new HomePage(page).Title).ToBeVisibleAsync();
        return page;
    }

    [Fact]
    public async Task A_tenant_admin_downloads_their_tenants_trail_and_an_analyst_gets_no_file()
    {
        var admin = await SignedInAsync(AcmeAdmin);
        await admin.GotoAsync("/admin/audit");
        await Expect(admin.GetByTestId("audit-title")).ToBeVisibleAsync();
        var export = admin.GetByTestId("audit-export");
        await Expect(export).ToHaveAttributeAsync("href", "/admin/audit/export.csv");

        var response = await admin.Context.APIRequest.GetAsync("/admin/audit/export.csv?eventType=SignIn");
        Assert.Equal(200, response.Status);
        Assert.StartsWith("text/csv", response.Headers["content-type"], StringComparison.Ordinal);
        var lines = (await response.TextAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("id,occurred_at,tenant_id,tenant,user_email,event_type,target,outcome,details", lines[0]);
        Assert.Contains(lines, l => l.Contains(AcmeAdmin, StringComparison.Ordinal));
        Assert.All(lines.Skip(1), l => Assert.Contains(",SignIn,", l, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("@northwind.test", StringComparison.Ordinal));
        await admin.Context.CloseAsync();

        var analyst = await SignedInAsync(AcmeAnalyst);
        var refused = await analyst.Context.APIRequest.GetAsync("/admin/audit/export.csv", new() { MaxRedirects = 0 });
        Assert.NotEqual(200, refused.Status);
        Assert.DoesNotContain("id,occurred_at", await refused.TextAsync(), StringComparison.Ordinal);
        await analyst.Context.CloseAsync();
    }
}
