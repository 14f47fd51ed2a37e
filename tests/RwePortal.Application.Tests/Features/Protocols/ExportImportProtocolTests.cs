using System.Text.Json.Nodes;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Application.Tests.Features.Protocols;

/// <summary>JSON export of a version and import into another tenant, with the file treated as untrusted input.</summary>
[Collection(AppCollection.Name)]
public sealed class ExportImportProtocolTests(AppFixture fixture)
{
    [Fact]
    public async Task An_approved_version_exports_its_canonical_document_with_hash_and_signatures_and_the_export_is_audited()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.ApprovedAsync();

        var export = (await fixture.SendAsync(new ExportProtocolVersion.Query(id, 1))).Unwrap();

        var file = JsonNode.Parse(export.Json)!;
        var model = ProtocolParser.Parse(ProtocolScenario.Example()).Protocol!;
        Assert.Equal("rweportal.protocol", (string?)file["format"]);
        Assert.Equal("Approved", (string?)file["protocol"]!["state"]);
        Assert.Equal(ProtocolCanonical.Hash(model), (string?)file["protocol"]!["contentHash"]);
        Assert.Equal($"Test {scenario.ReviewerEmail}", (string?)file["protocol"]!["signatures"]![0]!["printedName"]);
        Assert.Equal(ProtocolCanonical.Json(model), ProtocolCanonical.Json(ProtocolParser.Parse(file["document"]!.ToJsonString()).Protocol!));
        Assert.Equal("protocol-arni-vs-enalapril-v1.json", export.FileName);
        Assert.Equal(1L, await scenario.OwnerScalarAsync<long>(
            "SELECT count(*) FROM app.audit_event WHERE tenant_id = @tenant AND event_type = 'Export' AND target = @target",
            new { tenant = scenario.TenantId, target = $"ExportProtocolVersion: protocol 'ARNI vs enalapril' ({id}) v1" }));
    }

    [Fact]
    public async Task An_export_imports_into_another_tenant_as_a_new_draft_that_keeps_where_it_came_from()
    {
        var home = await ProtocolScenario.StartAsync(fixture);
        var id = await home.ApprovedAsync();
        var export = (await fixture.SendAsync(new ExportProtocolVersion.Query(id, 1))).Unwrap();
        var elsewhere = await ProtocolScenario.StartAsync(fixture);
        await elsewhere.AsAuthorAsync();

        var imported = (await fixture.SendAsync(new ImportProtocol.Command(export.Json))).Unwrap();

        Assert.NotEqual(id, imported.Id);
        Assert.Equal("ARNI vs enalapril", imported.Title);
        Assert.Empty(imported.Missing);
        var protocol = (await fixture.SendAsync(new GetProtocol.Query(imported.Id))).Unwrap();
        var version = Assert.Single(protocol.Versions);
        Assert.Equal(ProtocolVersionState.Draft, version.State);
        Assert.Empty(version.Signatures);
        var provenance = JsonNode.Parse(protocol.ImportedFrom!)!;
        Assert.Equal(id.ToString(), (string?)provenance["protocolId"]);
        Assert.Equal("Approved", (string?)provenance["state"]);
        Assert.Equal(elsewhere.TenantId, await elsewhere.OwnerScalarAsync<Guid>("SELECT tenant_id FROM app.protocols WHERE id = @id", new { id = imported.Id }));

        // Submitted here, it has the same content hash as the original: the content travelled unchanged.
        var submitted = (await fixture.SendAsync(new SubmitProtocolVersion.Command(imported.Id, 1))).Unwrap();
        Assert.Equal((string?)JsonNode.Parse(export.Json)!["protocol"]!["contentHash"], submitted.ContentHash);
    }

    [Fact]
    public async Task An_export_whose_document_was_altered_is_refused_on_import_by_its_content_hash()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        var id = await scenario.ApprovedAsync();
        var export = (await fixture.SendAsync(new ExportProtocolVersion.Query(id, 1))).Unwrap();
        var file = JsonNode.Parse(export.Json)!;
        file["document"]!["general"]!["objective"] = "A different question, signed by nobody.";
        await scenario.AsAuthorAsync();

        var result = await fixture.SendAsync(new ImportProtocol.Command(file.ToJsonString()));

        ProtocolScenario.AssertFailed(result, "Protocol.Invalid");
        Assert.Contains("protocol.contentHash", result.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_import_file_with_bad_fields_is_refused_with_the_node_path_of_each()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();
        var document = JsonNode.Parse(ProtocolScenario.Edit(ProtocolScenario.Example(), root => root["strategies"]!["gracePeriodDays"] = "none"))!;
        var file = new JsonObject
        {
            ["format"] = "something-else",
            ["formatVersion"] = 7,
            ["protocol"] = new JsonObject { ["title"] = "Crafted", ["state"] = "Draft" },
            ["document"] = document,
        };

        var result = await fixture.SendAsync(new ImportProtocol.Command(file.ToJsonString()));
        var notAnObject = await fixture.SendAsync(new ImportProtocol.Command("[1, 2]"));

        ProtocolScenario.AssertFailed(result, "Protocol.Invalid");
        Assert.Contains("file: format:", result.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("file: formatVersion:", result.Error.Message, StringComparison.Ordinal);
        Assert.Contains("document.strategies.gracePeriodDays", result.Error.Message, StringComparison.Ordinal);
        ProtocolScenario.AssertFailed(notAnObject, "Protocol.Invalid");
        Assert.Equal(0L, await scenario.OwnerScalarAsync<long>("SELECT count(*) FROM app.protocols WHERE tenant_id = @tenant", new { tenant = scenario.TenantId }));
    }

    [Fact]
    public async Task A_bare_example_protocol_imports_with_its_own_title()
    {
        var scenario = await ProtocolScenario.StartAsync(fixture);
        await scenario.AsAuthorAsync();

        var imported = (await fixture.SendAsync(new ImportProtocol.Command(ProtocolScenario.Example("eunomia-celecoxib-vs-diclofenac.json")))).Unwrap();

        Assert.Equal(ProtocolParser.Parse(ProtocolScenario.Example("eunomia-celecoxib-vs-diclofenac.json")).Protocol!.General!.Title, imported.Title);
        Assert.Empty(imported.Missing);
        Assert.Null((await fixture.SendAsync(new GetProtocol.Query(imported.Id))).Unwrap().ImportedFrom);
    }
}
