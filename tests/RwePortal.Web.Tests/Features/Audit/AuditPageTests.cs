using Bunit;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Features.Audit;
using RwePortal.Application.Security;
using RwePortal.Web.Features.Audit;
using RwePortal.Web.Tests.Features.Users;

namespace RwePortal.Web.Tests.Features.Audit;

public sealed class AuditPageTests : BunitContext, IAsyncLifetime
{
    private static readonly UserContext Admin =
        new(Guid.NewGuid(), "tenantadmin@acme.test", "Acme Admin", false, Guid.NewGuid(), "Acme Pharma", [TenantRole.TenantAdmin])
        {
            SignedInWithSecondFactor = true,
        };

    private static readonly AuditEventView[] Events =
    [
        new(3, DateTimeOffset.UtcNow, Admin.TenantId, "tenantadmin@acme.test", AuditEventTypes.ConsentChanged, "demo person 5", "Success", "{}"),
        new(2, DateTimeOffset.UtcNow, Admin.TenantId, "analyst@acme.test", AuditEventTypes.PermissionDenied, "ListAuditEvents", "Denied", "{}"),
        new(1, DateTimeOffset.UtcNow, Admin.TenantId, "tenantadmin@acme.test", AuditEventTypes.SignIn, "account", "Success", "{}"),
    ];

    private readonly FakeMediator _mediator = new();

    public AuditPageTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        _mediator.Answer<ListAuditEvents.Query, Result<ListAuditEvents.Response>>(query =>
        {
            var items = Events
                .Where(e => query.Filter.EventType is null || e.EventType == query.Filter.EventType)
                .Where(e => query.Filter.User is null || e.UserEmail!.Contains(query.Filter.User, StringComparison.OrdinalIgnoreCase))
                .ToList();
            return new ListAuditEvents.Response(items, items.Count);
        });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's popover services dispose asynchronously only.
    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private static readonly UserContext PlatformAdmin =
        new(Guid.NewGuid(), "admin@rweportal.test", "Platform Admin", true, null, null, []) { SignedInWithSecondFactor = true };

    private IRenderedComponent<AuditPage> RenderPage(UserContext? user = null)
    {
        Render<MudPopoverProvider>();
        return Render<AuditPage>(parameters => parameters.AddCascadingValue(user ?? Admin));
    }

    private static string[] Types(IRenderedComponent<AuditPage> page) =>
        page.FindAll("[data-testid=audit-row-type]").Select(e => e.TextContent.Trim()).ToArray();

    [Fact]
    public void The_page_shows_the_events_of_the_first_page_newest_first()
    {
        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Equal(
            [AuditEventTypes.ConsentChanged, AuditEventTypes.PermissionDenied, AuditEventTypes.SignIn], Types(page)));
        var query = _mediator.Sent.OfType<ListAuditEvents.Query>().First();
        Assert.Equal((0, 25), (query.Page, query.PageSize));
    }

    [Fact]
    public async Task Filtering_by_user_asks_again_with_the_filter_and_shows_only_matching_events()
    {
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Equal(3, Types(page).Length));

        var user = page.FindComponents<MudTextField<string>>().Single(f => f.Instance.Label == "User");
        await page.InvokeAsync(() => user.Instance.ValueChanged.InvokeAsync("analyst"));

        page.WaitForAssertion(() => Assert.Equal([AuditEventTypes.PermissionDenied], Types(page)));
        Assert.Equal("analyst", _mediator.Sent.OfType<ListAuditEvents.Query>().Last().Filter.User);
    }

    [Fact]
    public async Task Filtering_by_event_type_and_dates_sends_them_to_the_query()
    {
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Equal(3, Types(page).Length));

        var from = page.FindComponents<MudTextField<string>>().Single(f => f.Instance.Label == "From");
        await page.InvokeAsync(() => from.Instance.ValueChanged.InvokeAsync("2026-01-01"));
        var type = page.FindComponent<MudSelect<string>>();
        await page.InvokeAsync(() => type.Instance.ValueChanged.InvokeAsync(AuditEventTypes.SignIn));

        page.WaitForAssertion(() => Assert.Equal([AuditEventTypes.SignIn], Types(page)));
        var last = _mediator.Sent.OfType<ListAuditEvents.Query>().Last().Filter;
        Assert.Equal((new DateOnly(2026, 1, 1), AuditEventTypes.SignIn), (last.From, last.EventType));
    }

    [Fact]
    public async Task Export_links_to_the_export_endpoint_with_the_pages_filter_not_a_data_url()
    {
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Equal(3, Types(page).Length));
        var from = page.FindComponents<MudTextField<string>>().Single(f => f.Instance.Label == "From");
        await page.InvokeAsync(() => from.Instance.ValueChanged.InvokeAsync("2026-01-01"));
        var type = page.FindComponent<MudSelect<string>>();
        await page.InvokeAsync(() => type.Instance.ValueChanged.InvokeAsync(AuditEventTypes.SignIn));

        page.WaitForAssertion(() =>
        {
            var link = page.Find("[data-testid=audit-export]");
            Assert.Equal($"/admin/audit/export.csv?from=2026-01-01&eventType={AuditEventTypes.SignIn}", link.GetAttribute("href"));
            Assert.NotNull(link.GetAttribute("download"));
        });
        Assert.Empty(_mediator.Sent.OfType<ExportAuditEvents.Query>());
    }

    [Fact]
    public void The_platform_admin_sees_each_events_tenant_none_for_events_without_one()
    {
        _mediator.Answer<ListAuditEvents.Query, Result<ListAuditEvents.Response>>(_ => new ListAuditEvents.Response(
            [
                Events[0] with { TenantName = "Acme Pharma" },
                new(9, DateTimeOffset.UtcNow, null, "nobody@example.test", AuditEventTypes.SignInFailed, "account", "InvalidCredentials", "{}"),
            ],
            2));

        var page = RenderPage(PlatformAdmin);

        page.WaitForAssertion(() => Assert.Equal(
            ["Acme Pharma", "none"], page.FindAll("[data-testid=audit-row-tenant]").Select(e => e.TextContent.Trim())));
    }

    [Fact]
    public void A_tenant_admin_sees_no_tenant_column_all_events_being_their_tenants()
    {
        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Equal(3, Types(page).Length));
        Assert.Empty(page.FindAll("[data-testid=audit-row-tenant]"));
    }
}
