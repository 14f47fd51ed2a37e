using RwePortal.Application.Features.ConceptSets;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Tests.Features.Subgroups;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.ConceptSets;

/// <summary>
/// Concept sets as versioned library objects that criteria reference, not copy: a count reads the set's current
/// revision and its audit names the revision used; visibility, ownership and tenants as for saved subgroups.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class ConceptSetTests(AppFixture fixture) : IAsyncLifetime
{
    private static readonly ConceptSetItem[] GiBleed = [new(192671, true, false)];
    private static readonly ConceptSetItem[] SoreThroat = [new(28060, true, false)];
    private Guid _acme;
    private string _source = "";

    public async Task InitializeAsync()
    {
        _acme = await fixture.TenantIdAsync("acme");
        _source = await LibrarySource.CreateAsync(fixture, _acme);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<SaveConceptSet.Response> SaveAsync(string name, IReadOnlyList<ConceptSetItem> items, SubgroupVisibility visibility = SubgroupVisibility.Private, Guid? id = null) =>
        (await fixture.SendAsync(new SaveConceptSet.Command(id, name, null, items, visibility, _source))).Unwrap();

    private static string UsingSet(Guid set, string more = "") =>
        $$"""{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"conceptSet": "{{set}}"}{{more}}]}]}""";

    [Fact]
    public async Task A_criterion_reads_the_sets_current_revision_at_count_time_and_the_audit_names_the_revision()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var set = await SaveAsync("Outcome codes", GiBleed, SubgroupVisibility.Tenant);
        var subgroup = (await fixture.SendAsync(new SaveSubgroup.Command(null, "Uses the set", null, UsingSet(set.Id), SubgroupVisibility.Tenant, _source))).Unwrap();

        // Another member counts the shared subgroup as saved, before and after the set's owner edits the set.
        await fixture.SignInAsAsync(LibrarySource.AcmeStudyLead);
        var definition = (await fixture.SendAsync(new GetSubgroup.Query(subgroup.Id))).Unwrap().Definition;
        var before = (await fixture.SendAsync(new CountSubgroup.Query(_source, definition))).Unwrap();
        var (rowsBefore, libraryBefore) = await LibrarySource.LastCountAsync(fixture, _acme, _source);
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var edited = await SaveAsync("Outcome codes", SoreThroat, SubgroupVisibility.Tenant, set.Id);
        await fixture.SignInAsAsync(LibrarySource.AcmeStudyLead);
        var after = (await fixture.SendAsync(new CountSubgroup.Query(_source, definition))).Unwrap();
        var (rowsAfter, libraryAfter) = await LibrarySource.LastCountAsync(fixture, _acme, _source);
        var saved = (await fixture.SendAsync(new GetSubgroup.Query(subgroup.Id))).Unwrap();

        Assert.Equal(39, rowsBefore);   // persons 1–40 bleed; person 2 withdrew
        Assert.Equal(30, rowsAfter);    // persons 31–60 have a sore throat
        Assert.Equal($$"""[{"id": "{{set.Id}}", "kind": "conceptSet", "revision": 1}]""", libraryBefore);
        Assert.Equal($$"""[{"id": "{{set.Id}}", "kind": "conceptSet", "revision": 2}]""", libraryAfter);
        Assert.Equal(2, edited.Revision);
        Assert.Equal([("conceptSet", set.Id, 1)], before.Library!.Select(u => (u.Kind, u.Id, u.Revision)));
        Assert.Equal([("conceptSet", set.Id, 2)], after.Library!.Select(u => (u.Kind, u.Id, u.Revision)));
        Assert.Equal(1, saved.Revision); // the subgroup itself did not change
        Assert.Equal([new GetSubgroup.ReferenceInfo("criteria[0].concepts[0]", "conceptSet", set.Id, "Outcome codes", 2)], saved.References!);
    }

    [Fact]
    public async Task Items_of_a_set_join_the_written_ones_as_if_written_in_place()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var set = await SaveAsync("Bleeds and sore throats", [new(192671, true, false), new(28060, true, false)]);

        // Either condition: 1–60 but person 2; with sore throat excluded in place, the set is GI bleed alone: 1–40 but 2.
        (await fixture.SendAsync(new CountSubgroup.Query(_source, UsingSet(set.Id)))).Unwrap();
        var (both, _) = await LibrarySource.LastCountAsync(fixture, _acme, _source);
        (await fixture.SendAsync(new CountSubgroup.Query(_source, UsingSet(set.Id, """, {"id": 28060, "exclude": true}""")))).Unwrap();
        var (rows, _) = await LibrarySource.LastCountAsync(fixture, _acme, _source);
        var onlyExcluded = await fixture.SendAsync(new CountSubgroup.Query(_source, UsingSet(
            (await SaveAsync("Exclusions only?", [new(28060, true, false)])).Id, """, {"id": 28060, "exclude": true}""")));

        Assert.Equal(59, both);
        Assert.Equal(39, rows);
        Assert.True(onlyExcluded.Succeeded); // included by the set, excluded in place: an empty but valid set
    }

    [Fact]
    public async Task Revisions_owner_visibility_and_tenants_hold_for_concept_sets()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var mine = await SaveAsync("Private codes", GiBleed);
        var shared = await SaveAsync("Shared codes", GiBleed, SubgroupVisibility.Tenant);
        await SaveAsync("Shared codes", SoreThroat, SubgroupVisibility.Tenant, shared.Id);
        var first = (await fixture.SendAsync(new GetConceptSet.Query(shared.Id, 1))).Unwrap();
        var current = (await fixture.SendAsync(new GetConceptSet.Query(shared.Id))).Unwrap();

        await fixture.SignInAsAsync(LibrarySource.AcmeStudyLead);
        var list = (await fixture.SendAsync(new ListConceptSets.Query())).Unwrap();
        var getPrivate = await fixture.SendAsync(new GetConceptSet.Query(mine.Id));
        var editShared = await fixture.SendAsync(new SaveConceptSet.Command(shared.Id, "taken", null, GiBleed, SubgroupVisibility.Tenant));
        var deleteShared = await fixture.SendAsync(new DeleteConceptSet.Command(shared.Id));
        var usePrivate = await fixture.SendAsync(new CountSubgroup.Query(_source, UsingSet(mine.Id)));

        await fixture.SignInAsAsync(LibrarySource.NorthwindAnalyst);
        var northwindList = (await fixture.SendAsync(new ListConceptSets.Query())).Unwrap();
        var northwindGet = await fixture.SendAsync(new GetConceptSet.Query(shared.Id));
        var northwindEdit = await fixture.SendAsync(new SaveConceptSet.Command(shared.Id, "taken", null, GiBleed, SubgroupVisibility.Tenant));
        var northwindDelete = await fixture.SendAsync(new DeleteConceptSet.Command(shared.Id));
        var northwindUse = await fixture.SendAsync(new SaveSubgroup.Command(null, "uses acme's set", null, UsingSet(shared.Id), SubgroupVisibility.Private));

        Assert.Equal(GiBleed, first.Items);
        Assert.Equal(SoreThroat, current.Items);
        Assert.Equal([2, 1], current.Revisions.Select(r => r.Revision));
        Assert.Equal($"v5.0 TEST-31-OCT-26 ({_source})", current.VocabularyVersion);
        Assert.DoesNotContain(list, i => i.Id == mine.Id);
        Assert.False(Assert.Single(list, i => i.Id == shared.Id).Mine);
        Assert.Equal("ConceptSet.NotFound", getPrivate.Error!.Code);
        Assert.Equal("ConceptSet.NotOwner", editShared.Error!.Code);
        Assert.Equal("ConceptSet.NotOwner", deleteShared.Error!.Code);
        Assert.Contains($"criteria[0].concepts[0].conceptSet: the concept set {mine.Id} does not exist or is not shared with you", usePrivate.Error!.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(northwindList, i => i.Id == shared.Id || i.Id == mine.Id);
        Assert.Equal("ConceptSet.NotFound", northwindGet.Error!.Code);
        Assert.Equal("ConceptSet.NotFound", northwindEdit.Error!.Code);
        Assert.Equal("ConceptSet.NotFound", northwindDelete.Error!.Code);
        Assert.Contains("does not exist or is not shared with you", northwindUse.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_set_in_use_is_not_deleted_nor_unshared_and_bad_items_are_refused()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var set = await SaveAsync("In use", GiBleed, SubgroupVisibility.Tenant);
        var user = (await fixture.SendAsync(new SaveSubgroup.Command(null, "Shared user of the set", null, UsingSet(set.Id), SubgroupVisibility.Tenant, _source))).Unwrap();

        var delete = await fixture.SendAsync(new DeleteConceptSet.Command(set.Id));
        var unshare = await fixture.SendAsync(new SaveConceptSet.Command(set.Id, "In use", null, GiBleed, SubgroupVisibility.Private, _source));
        var empty = await fixture.SendAsync(new SaveConceptSet.Command(null, "empty", null, [], SubgroupVisibility.Private));
        var excludedOnly = await fixture.SendAsync(new SaveConceptSet.Command(null, "excluded", null, [new(1, true, true)], SubgroupVisibility.Private));
        var twice = await fixture.SendAsync(new SaveConceptSet.Command(null, "twice", null, [new(1, true, false), new(1, false, false)], SubgroupVisibility.Private));
        var zero = await fixture.SendAsync(new SaveConceptSet.Command(null, "zero", null, [new(0, true, false)], SubgroupVisibility.Private));
        (await fixture.SendAsync(new DeleteSubgroup.Command(user.Id))).Unwrap();
        var deleteUnused = await fixture.SendAsync(new DeleteConceptSet.Command(set.Id));

        Assert.Equal("ConceptSet.Referenced", delete.Error!.Code);
        Assert.Contains("'Shared user of the set'", delete.Error.Message, StringComparison.Ordinal);
        Assert.Equal("ConceptSet.Shared", unshare.Error!.Code);
        Assert.All(new[] { empty, excludedOnly, twice, zero }, r => Assert.Equal("Validation.Failed", r.Error!.Code));
        Assert.True(deleteUnused.Succeeded);
        Assert.Equal("ConceptSet.NotFound", (await fixture.SendAsync(new GetConceptSet.Query(set.Id))).Error!.Code);
    }
}
