using Dapper;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Protocols;

/// <summary>Protocols are tenant-owned rows: another tenant's user and the app role set to another tenant see nothing of them.</summary>
[Collection(AppCollection.Name)]
public sealed class ProtocolTenantIsolationTests(AppFixture fixture)
{
    private static readonly string[] Tables =
        ["protocols", "protocol_versions", "protocol_revisions", "protocol_reviews", "protocol_signatures", "protocol_amendments"];

    [Fact]
    public async Task Another_tenants_protocol_id_answers_not_found_in_every_slice()
    {
        var home = await ProtocolScenario.StartAsync(fixture);
        var id = await home.ApprovedAsync();
        await home.AsAuthorAsync();
        (await fixture.SendAsync(new AmendProtocol.Command(id, 1, "Open a draft to aim at."))).Unwrap();
        var elsewhere = await ProtocolScenario.StartAsync(fixture);
        await elsewhere.AsReviewerAsync();

        var results = new List<(string Slice, Error? Error)>
        {
            ("GetProtocol", (await fixture.SendAsync(new GetProtocol.Query(id))).Error),
            ("SaveProtocolDraft", (await fixture.SendAsync(new SaveProtocolDraft.Command(id, 2, ProtocolScenario.Example()))).Error),
            ("SubmitProtocolVersion", (await fixture.SendAsync(new SubmitProtocolVersion.Command(id, 2))).Error),
            ("ApproveProtocolVersion", (await fixture.SendAsync(new ApproveProtocolVersion.Command(id, 2, DemoSeeder.Password))).Error),
            ("RejectProtocolVersion", (await fixture.SendAsync(new RejectProtocolVersion.Command(id, 2, "no"))).Error),
            ("AmendProtocol", (await fixture.SendAsync(new AmendProtocol.Command(id, 1, "take it over"))).Error),
            ("CompareProtocolVersions", (await fixture.SendAsync(new CompareProtocolVersions.Query(id, 1, 2))).Error),
            ("ExportProtocolVersion", (await fixture.SendAsync(new ExportProtocolVersion.Query(id, 1))).Error),
            ("VerifyProtocolVersion", (await fixture.SendAsync(new VerifyProtocolVersion.Query(id, 1))).Error),
        };

        Assert.All(results, r => Assert.True(r.Error?.Code == "Protocol.NotFound", $"{r.Slice}: {r.Error?.Code ?? "succeeded"}"));
        Assert.DoesNotContain((await fixture.SendAsync(new ListProtocols.Query())).Unwrap().Protocols, p => p.Id == id);

        // Nothing changed, and the wrong password was never asked for (the reviewer's failed count is untouched).
        Assert.Equal("Approved,Draft", await home.OwnerScalarAsync<string>(
            "SELECT string_agg(state, ',' ORDER BY version) FROM app.protocol_versions WHERE protocol_id = @id", new { id }));
    }

    [Fact]
    public async Task The_app_role_set_to_another_tenant_sees_and_changes_none_of_a_protocols_rows()
    {
        var home = await ProtocolScenario.StartAsync(fixture);
        var id = await home.ApprovedAsync();
        await home.AsAuthorAsync();
        (await fixture.SendAsync(new AmendProtocol.Command(id, 1, "Rows in every table."))).Unwrap();
        var elsewhere = (await ProtocolScenario.StartAsync(fixture)).TenantId;
        var ownRows = new Dictionary<string, long>();
        await using (var own = await home.OpenAsAppAsync())
        {
            foreach (var table in Tables)
            {
                ownRows[table] = await own.ExecuteScalarAsync<long>($"SELECT count(*) FROM app.{table} WHERE tenant_id = @tenant", new { tenant = home.TenantId });
            }
        }

        await using var other = await home.OpenAsAppAsync(elsewhere);

        Assert.All(ownRows, r => Assert.True(r.Value > 0, $"{r.Key} has no row of the protocol's tenant to hide"));
        foreach (var table in Tables)
        {
            Assert.Equal(0L, await other.ExecuteScalarAsync<long>($"SELECT count(*) FROM app.{table} WHERE tenant_id = @tenant", new { tenant = home.TenantId }));
        }

        Assert.Equal(0, await other.ExecuteAsync("UPDATE app.protocols SET title = 'taken' WHERE id = @id", new { id }));
        Assert.Equal(0, await other.ExecuteAsync("UPDATE app.protocol_versions SET document = '{}' WHERE protocol_id = @id AND version = 2", new { id }));
        Assert.Equal("ARNI vs enalapril", await home.OwnerScalarAsync<string>("SELECT title FROM app.protocols WHERE id = @id", new { id }));
    }
}
