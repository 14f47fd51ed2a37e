using Dapper;
using Npgsql;
using RwePortal.Application.Audit;
using RwePortal.Application.Features.Audit;
using RwePortal.Application.Features.Consent;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Audit;

/// <summary>What the pipeline and the audit slices write to and read from the trail, through the mediator.</summary>
[Collection(AppCollection.Name)]
public sealed class AuditedRequestsTests(AppFixture fixture)
{
    private const string AcmeAdmin = "tenantadmin@acme.test";
    private const string NorthwindAdmin = "tenantadmin@northwind.test";

    private async Task<(string EventType, string? Target, string Outcome, string? Email)?> LastEventAsync(string eventType)
    {
        await using var connection = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        return await connection.QuerySingleOrDefaultAsync<(string, string?, string, string?)?>(
            "SELECT event_type, target, outcome, user_email FROM app.audit_event WHERE event_type = @eventType ORDER BY id DESC LIMIT 1",
            new { eventType });
    }

    [Fact]
    public async Task A_command_through_the_mediator_writes_an_event_with_its_error_code_as_outcome()
    {
        await fixture.SignInAsAsync(AcmeAdmin);

        var result = await fixture.SendAsync(new RecordConsent.Command(
            "no_such_source", 42, "research", "withdrawn", new DateOnly(2024, 1, 1), null, "participant request"));

        Assert.Equal("DataSource.NotFound", result.Error?.Code);
        var last = await LastEventAsync(AuditEventTypes.Command);
        Assert.Equal("RecordConsent: no_such_source person 42 research withdrawn", last?.Target);
        Assert.Equal("DataSource.NotFound", last?.Outcome);
        Assert.Equal(AcmeAdmin, last?.Email);
    }

    [Fact]
    public async Task Queries_are_not_recorded_as_commands()
    {
        await fixture.SignInAsAsync(AcmeAdmin);
        await using var connection = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        var before = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM app.audit_event WHERE event_type = 'Command'");

        (await fixture.SendAsync(new ListAuditEvents.Query(new AuditEventFilter()))).Unwrap();

        Assert.Equal(before, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM app.audit_event WHERE event_type = 'Command'"));
    }

    [Fact]
    public async Task A_denied_request_writes_a_permission_denied_event()
    {
        await fixture.SignInAsAsync("analyst@acme.test");

        var result = await fixture.SendAsync(new ListAuditEvents.Query(new AuditEventFilter()));

        Assert.Equal("Auth.Forbidden", result.Error?.Code);
        var last = await LastEventAsync(AuditEventTypes.PermissionDenied);
        Assert.Equal(("ListAuditEvents", AuditOutcomes.Denied, "analyst@acme.test"), (last?.Target, last?.Outcome, last?.Email));
    }

    [Fact]
    public async Task A_tenant_admin_sees_only_their_tenant_and_the_platform_admin_sees_all()
    {
        await fixture.SignInAsAsync(NorthwindAdmin);
        await fixture.SendAsync(new RecordConsent.Command("northwind_only", 1, "research", "granted", new DateOnly(2024, 1, 1), null, "probe"));
        var filter = new AuditEventFilter(Target: "northwind_only");

        await fixture.SignInAsAsync(AcmeAdmin);
        var acme = (await fixture.SendAsync(new ListAuditEvents.Query(filter))).Unwrap();
        await fixture.SignInAsAsync(NorthwindAdmin);
        var northwind = (await fixture.SendAsync(new ListAuditEvents.Query(filter))).Unwrap();
        await fixture.SignInAsAsync("admin@rweportal.test");
        var platform = (await fixture.SendAsync(new ListAuditEvents.Query(filter))).Unwrap();

        Assert.Equal(0, acme.TotalCount);
        Assert.True(northwind.TotalCount >= 1);
        Assert.All(northwind.Items, e => Assert.Equal(NorthwindAdmin, e.UserEmail));
        Assert.Equal(northwind.TotalCount, platform.TotalCount);
    }

    [Fact]
    public async Task Filters_page_the_trail_newest_first()
    {
        await fixture.SignInAsAsync(AcmeAdmin);
        for (var i = 0; i < 3; i++)
        {
            await fixture.SendAsync(new RecordConsent.Command($"paging_{i}", 1, "research", "granted", new DateOnly(2024, 1, 1), null, "probe"));
        }

        var page = (await fixture.SendAsync(new ListAuditEvents.Query(
            new AuditEventFilter(From: DateOnly.FromDateTime(DateTime.UtcNow), User: "TENANTADMIN@acme", EventType: AuditEventTypes.Command, Target: "paging_"),
            Page: 0,
            PageSize: 2))).Unwrap();

        Assert.Equal(3, page.TotalCount);
        Assert.Equal(2, page.Items.Count);
        Assert.Contains("paging_2", page.Items[0].Target, StringComparison.Ordinal);
        Assert.True(page.Items[0].Id > page.Items[1].Id);
    }

    [Fact]
    public async Task A_literal_percent_in_a_filter_matches_only_itself()
    {
        await fixture.SignInAsAsync(AcmeAdmin);

        var page = (await fixture.SendAsync(new ListAuditEvents.Query(new AuditEventFilter(Target: "%")))).Unwrap();

        Assert.Equal(0, page.TotalCount);
    }

    [Fact]
    public async Task The_csv_export_is_itself_audited()
    {
        await fixture.SignInAsAsync(AcmeAdmin);

        var export = (await fixture.SendAsync(new ExportAuditEvents.Query(new AuditEventFilter(EventType: AuditEventTypes.Command)))).Unwrap();

        var text = System.Text.Encoding.UTF8.GetString(export.Content);
        Assert.StartsWith("id,occurred_at,tenant_id,tenant,user_email,event_type,target,outcome,details", text, StringComparison.Ordinal);
        Assert.Equal(export.Rows + 1, text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
        var last = await LastEventAsync(AuditEventTypes.Export);
        Assert.Equal(("audit trail", AcmeAdmin), (last?.Target, last?.Email));
    }

    private async Task AppendAsync(Guid? tenantId, string target)
    {
        await using var app = new NpgsqlConnection(fixture.Database.AppConnectionString);
        await app.OpenAsync();
        await AuditLog.AppendAsync(
            app, null, new AuditActor(tenantId, null, "someone@example.test"), new AuditRecord(AuditEventTypes.SignIn, target, AuditOutcomes.Success), CancellationToken.None);
    }

    [Fact]
    public async Task Through_the_slices_a_tenant_admin_sees_only_their_tenant_and_the_platform_admin_every_tenant_and_none()
    {
        var acmeId = await fixture.TenantIdAsync("acme");
        var northwindId = await fixture.TenantIdAsync("northwind");
        var marker = $"isolation-{Guid.NewGuid():N}";
        await AppendAsync(acmeId, marker);
        await AppendAsync(northwindId, marker);
        await AppendAsync(null, marker);
        var filter = new AuditEventFilter(Target: marker);

        await fixture.SignInAsAsync(AcmeAdmin);
        var acmeList = (await fixture.SendAsync(new ListAuditEvents.Query(filter))).Unwrap();
        var acmeExport = (await fixture.SendAsync(new ExportAuditEvents.Query(filter))).Unwrap();
        await fixture.SignInAsAsync(NorthwindAdmin);
        var northwindList = (await fixture.SendAsync(new ListAuditEvents.Query(filter))).Unwrap();
        await fixture.SignInAsAsync("admin@rweportal.test");
        var platformList = (await fixture.SendAsync(new ListAuditEvents.Query(filter))).Unwrap();
        var platformExport = (await fixture.SendAsync(new ExportAuditEvents.Query(filter))).Unwrap();

        Assert.Equal(1, acmeList.TotalCount);
        Assert.Equal([acmeId], acmeList.Items.Select(e => e.TenantId));
        Assert.Equal(1, acmeExport.Rows);
        Assert.DoesNotContain(northwindId.ToString("D"), System.Text.Encoding.UTF8.GetString(acmeExport.Content), StringComparison.Ordinal);
        Assert.Equal([northwindId], northwindList.Items.Select(e => e.TenantId));
        Assert.Equal(3, platformList.TotalCount);
        Assert.Equal(new Guid?[] { null, northwindId, acmeId }, platformList.Items.Select(e => e.TenantId));
        Assert.Equal(new string?[] { null, "Northwind Hospital", "Acme Pharma" }, platformList.Items.Select(e => e.TenantName));
        Assert.Equal(["Acme Pharma"], acmeList.Items.Select(e => e.TenantName));
        Assert.Equal(3, platformExport.Rows);
        Assert.Contains($",{northwindId:D},Northwind Hospital,", System.Text.Encoding.UTF8.GetString(platformExport.Content), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_platform_admins_pages_of_every_tenant_are_counted_and_paged_newest_first()
    {
        var acmeId = await fixture.TenantIdAsync("acme");
        var northwindId = await fixture.TenantIdAsync("northwind");
        var marker = $"paging-all-{Guid.NewGuid():N}";
        for (var i = 0; i < 5; i++)
        {
            await AppendAsync(i % 2 == 0 ? acmeId : northwindId, $"{marker} {i}");
        }

        await fixture.SignInAsAsync("admin@rweportal.test");
        var second = (await fixture.SendAsync(new ListAuditEvents.Query(new AuditEventFilter(Target: marker), Page: 1, PageSize: 2))).Unwrap();

        Assert.Equal(5, second.TotalCount);
        Assert.Equal([$"{marker} 2", $"{marker} 1"], second.Items.Select(e => e.Target));
    }
}
