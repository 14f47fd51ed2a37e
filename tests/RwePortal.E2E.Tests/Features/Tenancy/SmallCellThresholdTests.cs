using Dapper;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.E2E.Tests.Infrastructure;
using RwePortal.E2E.Tests.Pages;
using static Microsoft.Playwright.Assertions;

namespace RwePortal.E2E.Tests.Features.Tenancy;

[Collection(PortalCollection.Name)]
public sealed class SmallCellThresholdTests(PortalFixture portal)
{
    private static readonly string AcmeAdmin = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.TenantAdmin);

    [Fact]
    public async Task A_tenant_admin_sets_the_threshold_on_the_users_page_and_it_is_stored_for_the_tenant()
    {
        var admin = await portal.NewPageAsync();
        await new LoginPage(admin).OpenAsync();
        await new LoginPage(admin).SignInAsync(AcmeAdmin, DemoSeeder.Password);
        var users = new UsersAdminPage(admin);
        await users.OpenAsync();
        var summary = admin.GetByTestId("smallcell-threshold-summary");
        await Expect(summary).ToContainTextAsync("counts from 1 to 10 are shown as \"<11\"");

        try
        {
            var field = admin.Locator("input[data-testid=smallcell-threshold-input], [data-testid=smallcell-threshold-input] input");
            await field.FillAsync("7");
            await field.PressAsync("Tab");
            await admin.GetByTestId("smallcell-threshold-save").ClickAsync();
            await Expect(summary).ToContainTextAsync("counts from 1 to 6 are shown as \"<7\"");
            await PortalFixture.ScreenshotAsync(admin, "users-small-cell-threshold");
            Assert.Equal(7, await StoredAsync("acme"));

            await admin.ReloadAsync();
            await Expect(admin.GetByTestId("smallcell-threshold-summary")).ToContainTextAsync("\"<7\"");
        }
        finally
        {
            // The demo tenant's other tests expect the default.
            await using var connection = new NpgsqlConnection(portal.Database.OwnerConnectionString);
            await connection.ExecuteAsync("DELETE FROM app.tenant_settings WHERE tenant_id = (SELECT id FROM app.tenants WHERE slug = 'acme')");
            await admin.Context.CloseAsync();
        }
    }

    private async Task<int?> StoredAsync(string slug)
    {
        await using var connection = new NpgsqlConnection(portal.Database.OwnerConnectionString);
        return await connection.ExecuteScalarAsync<int?>(
            "SELECT s.small_cell_threshold FROM app.tenant_settings s JOIN app.tenants t ON t.id = s.tenant_id WHERE t.slug = @slug", new { slug });
    }
}
