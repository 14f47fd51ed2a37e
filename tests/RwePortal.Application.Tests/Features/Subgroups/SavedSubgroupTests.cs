using Dapper;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Subgroups;

/// <summary>
/// Saved subgroups as tenant-owned, versioned library objects, through the mediator as the portal sends them: every
/// edit a revision, only the owner edits, private ones only for their owner, shared ones for the tenant, another
/// tenant's id not found, revisions append-only for the portal's role, saves audited in their transaction.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class SavedSubgroupTests(AppFixture fixture) : IAsyncLifetime
{
    private Guid _acme;
    private Guid _northwind;
    private string _source = "";

    public async Task InitializeAsync()
    {
        _acme = await fixture.TenantIdAsync("acme");
        _northwind = await fixture.TenantIdAsync("northwind");
        _source = await LibrarySource.CreateAsync(fixture, _acme);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<SaveSubgroup.Response> SaveAsync(string name, string definition, SubgroupVisibility visibility = SubgroupVisibility.Private, Guid? id = null) =>
        (await fixture.SendAsync(new SaveSubgroup.Command(id, name, "test", definition, visibility, _source))).Unwrap();

    [Fact]
    public async Task Every_edit_is_a_new_revision_and_each_revision_stays_readable_with_its_author_and_vocabulary()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);

        var created = await SaveAsync("Bleeders", LibrarySource.BleedingPersons);
        await fixture.OwnerSqlAsync($"UPDATE cdm_{_source}.vocabulary SET vocabulary_version = 'v5.0 TEST-30-NOV-26' WHERE vocabulary_id = 'None'");
        var edited = await SaveAsync("Sore throats", LibrarySource.SoreThroats, id: created.Id);
        var current = (await fixture.SendAsync(new GetSubgroup.Query(created.Id))).Unwrap();
        var first = (await fixture.SendAsync(new GetSubgroup.Query(created.Id, 1))).Unwrap();

        Assert.Equal((created.Id, 1), (created.Id, created.Revision));
        Assert.Equal((created.Id, 2), (edited.Id, edited.Revision));
        Assert.Equal((2, "Sore throats", LibrarySource.SoreThroats, true), (current.Revision, current.Name, current.Definition, current.CanEdit));
        Assert.Equal((1, "Bleeders", LibrarySource.BleedingPersons), (first.Revision, first.Name, first.Definition));
        Assert.Equal([2, 1], current.Revisions.Select(r => r.Revision));
        Assert.All(current.Revisions, r => Assert.Equal("Analyst (Acme Pharma)", r.Author));
        Assert.Equal("Analyst (Acme Pharma)", current.Owner);
        Assert.Equal($"v5.0 TEST-30-NOV-26 ({_source})", current.VocabularyVersion);
        Assert.Equal($"v5.0 TEST-31-OCT-26 ({_source})", first.VocabularyVersion);
        // What is stored: two revision rows, the first unchanged.
        Assert.Equal(2, await fixture.OwnerSqlRowAsync<long>("SELECT count(*) FROM app.saved_subgroup_revisions WHERE subgroup_id = @id", new { id = created.Id }));
        Assert.Equal(LibrarySource.BleedingPersons, await fixture.OwnerSqlRowAsync<string>("SELECT definition FROM app.saved_subgroup_revisions WHERE subgroup_id = @id AND revision = 1", new { id = created.Id }));
    }

    [Fact]
    public async Task Without_a_source_named_a_tenant_with_several_sources_records_that_the_vocabulary_was_not_recorded()
    {
        await LibrarySource.CreateAsync(fixture, _acme, "v5.0 OTHER");
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);

        var saved = (await fixture.SendAsync(new SaveSubgroup.Command(null, "No source", null, LibrarySource.BleedingPersons, SubgroupVisibility.Private))).Unwrap();
        var shown = (await fixture.SendAsync(new GetSubgroup.Query(saved.Id))).Unwrap();

        Assert.Equal(VocabularyStamp.NotRecorded, shown.VocabularyVersion);
    }

    [Fact]
    public async Task Without_a_source_named_a_tenant_with_one_granted_source_records_that_sources_vocabulary()
    {
        var slug = $"one-{Guid.NewGuid():N}"[..12];
        await using (var db = await fixture.CreateDbContextAsync())
        {
            db.Tenants.Add(new RwePortal.Application.Tenancy.Tenant { Name = $"One source {slug}", Slug = slug });
            await db.SaveChangesAsync();
        }

        var tenant = await fixture.TenantIdAsync(slug);
        var source = await LibrarySource.CreateAsync(fixture, tenant, "v5.0 ONLY-ONE");
        var email = AppFixture.UniqueEmail("lone", "one.test");
        await fixture.CreateUserAsync(email, tenant, TenantRole.Analyst);
        await fixture.SignInAsAsync(email);

        var saved = (await fixture.SendAsync(new SaveSubgroup.Command(null, "No source named", null, LibrarySource.BleedingPersons, SubgroupVisibility.Private))).Unwrap();
        var shown = (await fixture.SendAsync(new GetSubgroup.Query(saved.Id))).Unwrap();

        Assert.Equal($"v5.0 ONLY-ONE ({source})", shown.VocabularyVersion);
    }

    [Fact]
    public async Task A_private_subgroup_is_its_owners_alone_and_a_shared_one_is_read_by_the_tenant_but_edited_by_its_owner()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var mine = await SaveAsync("Private bleeders", LibrarySource.BleedingPersons);
        var shared = await SaveAsync("Shared bleeders", LibrarySource.BleedingPersons, SubgroupVisibility.Tenant);

        await fixture.SignInAsAsync(LibrarySource.AcmeStudyLead);
        var list = (await fixture.SendAsync(new ListSubgroups.Query())).Unwrap();
        var getPrivate = await fixture.SendAsync(new GetSubgroup.Query(mine.Id));
        var getShared = (await fixture.SendAsync(new GetSubgroup.Query(shared.Id))).Unwrap();
        var editPrivate = await fixture.SendAsync(new SaveSubgroup.Command(mine.Id, "taken", null, LibrarySource.SoreThroats, SubgroupVisibility.Tenant, _source));
        var editShared = await fixture.SendAsync(new SaveSubgroup.Command(shared.Id, "taken", null, LibrarySource.SoreThroats, SubgroupVisibility.Tenant, _source));
        var deleteShared = await fixture.SendAsync(new DeleteSubgroup.Command(shared.Id));
        var duplicatePrivate = await fixture.SendAsync(new DuplicateSubgroup.Command(mine.Id, "copy"));
        var copy = (await fixture.SendAsync(new DuplicateSubgroup.Command(shared.Id, "My copy"))).Unwrap();
        var copied = (await fixture.SendAsync(new GetSubgroup.Query(copy.Id))).Unwrap();

        Assert.DoesNotContain(list, i => i.Id == mine.Id);
        var item = Assert.Single(list, i => i.Id == shared.Id);
        Assert.False(item.Mine);
        Assert.Equal(SubgroupVisibility.Tenant, item.Visibility);
        Assert.Equal("Subgroup.NotFound", getPrivate.Error!.Code);
        Assert.False(getShared.CanEdit);
        Assert.Equal(LibrarySource.BleedingPersons, getShared.Definition);
        Assert.Equal("Subgroup.NotFound", editPrivate.Error!.Code);
        Assert.Equal("Subgroup.NotOwner", editShared.Error!.Code);
        Assert.Equal("Subgroup.NotOwner", deleteShared.Error!.Code);
        Assert.Equal("Subgroup.NotFound", duplicatePrivate.Error!.Code);
        Assert.Equal((1, "My copy", SubgroupVisibility.Private, true, LibrarySource.BleedingPersons), (copied.Revision, copied.Name, copied.Visibility, copied.CanEdit, copied.Definition));
        Assert.Equal($"v5.0 TEST-31-OCT-26 ({_source})", copied.VocabularyVersion);

        // The owner's view is unchanged by all of it.
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var own = (await fixture.SendAsync(new GetSubgroup.Query(shared.Id))).Unwrap();
        Assert.Equal((1, "Shared bleeders", true), (own.Revision, own.Name, own.CanEdit));
    }

    [Fact]
    public async Task Another_tenants_subgroup_id_answers_not_found_through_every_slice()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var shared = await SaveAsync("Acme shared", LibrarySource.BleedingPersons, SubgroupVisibility.Tenant);

        await fixture.SignInAsAsync(LibrarySource.NorthwindAnalyst);
        var list = (await fixture.SendAsync(new ListSubgroups.Query())).Unwrap();
        var get = await fixture.SendAsync(new GetSubgroup.Query(shared.Id));
        var edit = await fixture.SendAsync(new SaveSubgroup.Command(shared.Id, "mine now", null, LibrarySource.SoreThroats, SubgroupVisibility.Tenant));
        var delete = await fixture.SendAsync(new DeleteSubgroup.Command(shared.Id));
        var duplicate = await fixture.SendAsync(new DuplicateSubgroup.Command(shared.Id, "copy"));
        var reference = await fixture.SendAsync(new SaveSubgroup.Command(null, "uses acme", null, LibrarySource.MemberOf(shared.Id), SubgroupVisibility.Private));
        var count = await fixture.SendAsync(new CountSubgroup.Query(_source, LibrarySource.MemberOf(shared.Id)));

        Assert.DoesNotContain(list, i => i.Id == shared.Id);
        Assert.Equal("Subgroup.NotFound", get.Error!.Code);
        Assert.Equal("Subgroup.NotFound", edit.Error!.Code);
        Assert.Equal("Subgroup.NotFound", delete.Error!.Code);
        Assert.Equal("Subgroup.NotFound", duplicate.Error!.Code);
        Assert.Equal("Validation.Failed", reference.Error!.Code);
        Assert.Contains($"criteria[0]: the saved subgroup {shared.Id} does not exist or is not shared with you", reference.Error.Message, StringComparison.Ordinal);
        Assert.Equal("Validation.Failed", count.Error!.Code);
        Assert.Equal(1L, await fixture.OwnerSqlRowAsync<long>("SELECT count(*) FROM app.saved_subgroup_revisions WHERE subgroup_id = @id", new { id = shared.Id }));
    }

    [Fact]
    public async Task The_portals_role_sees_no_other_tenants_rows_writes_none_and_cannot_change_or_remove_a_revision()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var saved = await SaveAsync("RLS probe", LibrarySource.BleedingPersons, SubgroupVisibility.Tenant);

        await using var asNorthwind = await LibrarySource.OpenAsAppAsync(fixture, _northwind);
        var seenByNorthwind = await asNorthwind.ExecuteScalarAsync<long>(
            "SELECT (SELECT count(*) FROM app.saved_subgroups WHERE id = @id) + (SELECT count(*) FROM app.saved_subgroup_revisions WHERE subgroup_id = @id)", new { id = saved.Id });
        var planted = await Assert.ThrowsAsync<PostgresException>(() => asNorthwind.ExecuteAsync(
            "INSERT INTO app.saved_subgroup_revisions (id, tenant_id, subgroup_id, revision, name, visibility, definition, vocabulary_version, author_id, saved_at) " +
            "VALUES (gen_random_uuid(), @acme, @id, 2, 'planted', 'Tenant', '{}', 'x', gen_random_uuid(), now())",
            new { acme = _acme, id = saved.Id }));

        await using var asAcme = await LibrarySource.OpenAsAppAsync(fixture, _acme);
        var seenByAcme = await asAcme.ExecuteScalarAsync<long>("SELECT count(*) FROM app.saved_subgroup_revisions WHERE subgroup_id = @id", new { id = saved.Id });
        var update = await Assert.ThrowsAsync<PostgresException>(() => asAcme.ExecuteAsync(
            "UPDATE app.saved_subgroup_revisions SET definition = '{}' WHERE subgroup_id = @id", new { id = saved.Id }));
        var delete = await Assert.ThrowsAsync<PostgresException>(() => asAcme.ExecuteAsync(
            "DELETE FROM app.saved_subgroup_revisions WHERE subgroup_id = @id", new { id = saved.Id }));
        var deleteHead = await Assert.ThrowsAsync<PostgresException>(() => asAcme.ExecuteAsync(
            "DELETE FROM app.saved_subgroups WHERE id = @id", new { id = saved.Id }));

        Assert.Equal(0, seenByNorthwind);
        Assert.Equal("42501", planted.SqlState); // new row violates row-level security policy
        Assert.Equal(1, seenByAcme);
        Assert.Equal(["42501", "42501", "42501"], new[] { update.SqlState, delete.SqlState, deleteHead.SqlState }); // permission denied
        Assert.Equal(LibrarySource.BleedingPersons, await fixture.OwnerSqlRowAsync<string>("SELECT definition FROM app.saved_subgroup_revisions WHERE subgroup_id = @id", new { id = saved.Id }));
    }

    [Fact]
    public async Task A_save_and_its_audit_event_commit_together_or_not_at_all()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var name = $"audited {Guid.NewGuid():N}"[..20];
        var saved = await SaveAsync(name, LibrarySource.BleedingPersons);
        var details = await fixture.OwnerSqlRowAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE tenant_id = @tenant AND target = @target", new { tenant = _acme, target = $"SaveSubgroup: subgroup '{name}' ({saved.Id})" });

        // An audit trail that refuses the event takes the save down with it.
        var refused = $"refused {Guid.NewGuid():N}"[..20];
        await fixture.OwnerSqlAsync($"""
            CREATE FUNCTION app.test_refuse_library_audit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.target LIKE 'SaveSubgroup: subgroup ''{refused}''%' THEN RAISE EXCEPTION 'audit refused'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_refuse_library_audit BEFORE INSERT ON app.audit_event FOR EACH ROW EXECUTE FUNCTION app.test_refuse_library_audit();
            """);
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => fixture.SendAsync(new SaveSubgroup.Command(null, refused, null, LibrarySource.BleedingPersons, SubgroupVisibility.Private, _source)));
        }
        finally
        {
            await fixture.OwnerSqlAsync("DROP TRIGGER test_refuse_library_audit ON app.audit_event; DROP FUNCTION app.test_refuse_library_audit();");
        }

        Assert.Contains("\"revision\": 1", details, StringComparison.Ordinal);
        Assert.Contains("\"vocabulary_version\": \"v5.0 TEST-31-OCT-26\"", details, StringComparison.Ordinal);
        Assert.Equal(0L, await fixture.OwnerSqlRowAsync<long>("SELECT count(*) FROM app.saved_subgroups WHERE name = @refused", new { refused }));
        Assert.Equal(0L, await fixture.OwnerSqlRowAsync<long>("SELECT count(*) FROM app.saved_subgroup_revisions WHERE name = @refused", new { refused }));
    }

    [Fact]
    public async Task A_definition_is_validated_with_node_paths_before_it_is_saved()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var name = $"bad {Guid.NewGuid():N}"[..16];

        var bad = await fixture.SendAsync(new SaveSubgroup.Command(null, name, null,
            """{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"id": 1}], "window": {"days": 3}}]}""", SubgroupVisibility.Private, _source));
        var missing = await fixture.SendAsync(new SaveSubgroup.Command(null, name, null, LibrarySource.MemberOf(Guid.NewGuid()), SubgroupVisibility.Private, _source));
        var unknownSource = await fixture.SendAsync(new SaveSubgroup.Command(null, name, null, LibrarySource.BleedingPersons, SubgroupVisibility.Private, "not_granted"));

        Assert.Equal("Validation.Failed", bad.Error!.Code);
        Assert.Contains("criteria[0].window.days", bad.Error.Message, StringComparison.Ordinal);
        Assert.Contains("criteria[0]: the saved subgroup", missing.Error!.Message, StringComparison.Ordinal);
        Assert.Equal("DataSource.NotFound", unknownSource.Error!.Code);
        Assert.Equal(0L, await fixture.OwnerSqlRowAsync<long>("SELECT count(*) FROM app.saved_subgroups WHERE name = @name", new { name }));
    }

    [Fact]
    public async Task A_deleted_subgroup_leaves_the_library_but_not_while_another_subgroup_refers_to_it()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var bleeders = await SaveAsync("Bleeders (to delete)", LibrarySource.BleedingPersons, SubgroupVisibility.Tenant);
        await fixture.SignInAsAsync(LibrarySource.AcmeStudyLead);
        var user = await SaveAsync("Lead's private use", LibrarySource.MemberOf(bleeders.Id));

        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var refused = await fixture.SendAsync(new DeleteSubgroup.Command(bleeders.Id));
        await fixture.SignInAsAsync(LibrarySource.AcmeStudyLead);
        (await fixture.SendAsync(new DeleteSubgroup.Command(user.Id))).Unwrap();
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        (await fixture.SendAsync(new DeleteSubgroup.Command(bleeders.Id))).Unwrap();
        var list = (await fixture.SendAsync(new ListSubgroups.Query())).Unwrap();
        var get = await fixture.SendAsync(new GetSubgroup.Query(bleeders.Id));
        var reference = await fixture.SendAsync(new CountSubgroup.Query(_source, LibrarySource.MemberOf(bleeders.Id)));

        // The referring subgroup is private to another user: counted, not named.
        Assert.Equal("Subgroup.Referenced", refused.Error!.Code);
        Assert.Contains("used by 1 saved subgroup(s) (1 saved subgroup(s) you cannot see)", refused.Error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Lead's private use", refused.Error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(list, i => i.Id == bleeders.Id);
        Assert.Equal("Subgroup.NotFound", get.Error!.Code);
        Assert.Contains("does not exist or is not shared with you", reference.Error!.Message, StringComparison.Ordinal);
        // Revisions are kept for the audit trail.
        Assert.Equal(1L, await fixture.OwnerSqlRowAsync<long>("SELECT count(*) FROM app.saved_subgroup_revisions WHERE subgroup_id = @id", new { id = bleeders.Id }));
    }

    [Fact]
    public async Task Subgroups_that_would_contain_themselves_or_nest_too_deep_are_refused_with_the_node_path()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var a = await SaveAsync("A", LibrarySource.BleedingPersons);
        var b = await SaveAsync("B", LibrarySource.MemberOf(a.Id));

        var self = await fixture.SendAsync(new SaveSubgroup.Command(a.Id, "A", null, LibrarySource.MemberOf(a.Id), SubgroupVisibility.Private, _source));
        var cycle = await fixture.SendAsync(new SaveSubgroup.Command(a.Id, "A", null,
            $$"""{"version": 1, "criteria": [{"kind": "sex", "concepts": [8532]}, {"any": [{"kind": "subgroup", "id": "{{b.Id}}"}]}]}""", SubgroupVisibility.Private, _source));
        var chain = b;
        for (var level = 3; level <= 4; level++)
        {
            chain = await SaveAsync($"level {level}", LibrarySource.MemberOf(chain.Id));
        }

        var deepest = await fixture.SendAsync(new SaveSubgroup.Command(null, "level 5", null, LibrarySource.MemberOf(chain.Id), SubgroupVisibility.Private, _source));
        var tooDeep = await fixture.SendAsync(new SaveSubgroup.Command(null, "level 6", null, LibrarySource.MemberOf(deepest.Unwrap().Id), SubgroupVisibility.Private, _source));

        Assert.Contains("criteria[0]: the saved subgroups refer to each other in a cycle", self.Error!.Message, StringComparison.Ordinal);
        Assert.Contains("criteria[1].any[0] → 'B' criteria[0]: the saved subgroups refer to each other in a cycle ('B' → this subgroup → itself)", cycle.Error!.Message, StringComparison.Ordinal);
        Assert.Contains($"saved subgroups nest at most {Warehouse.Cohorts.SubgroupDefinitionParser.MaxReferenceDepth} levels deep", tooDeep.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await fixture.SendAsync(new GetSubgroup.Query(a.Id))).Unwrap().Revision);
    }

    [Fact]
    public async Task A_shared_subgroup_refers_only_to_shared_objects_and_stays_shared_while_shared_ones_use_it()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var privateOne = await SaveAsync("Private base", LibrarySource.BleedingPersons);
        var sharedBase = await SaveAsync("Shared base", LibrarySource.BleedingPersons, SubgroupVisibility.Tenant);

        var sharingPrivate = await fixture.SendAsync(new SaveSubgroup.Command(null, "Shared user", null, LibrarySource.MemberOf(privateOne.Id), SubgroupVisibility.Tenant, _source));
        await SaveAsync("Shared user", LibrarySource.MemberOf(sharedBase.Id), SubgroupVisibility.Tenant);
        var unsharing = await fixture.SendAsync(new SaveSubgroup.Command(sharedBase.Id, "Shared base", null, LibrarySource.BleedingPersons, SubgroupVisibility.Private, _source));

        Assert.Contains("criteria[0]: a subgroup shared with the tenant refers only to shared objects, and the subgroup 'Private base' is private", sharingPrivate.Error!.Message, StringComparison.Ordinal);
        Assert.Equal("Subgroup.Shared", unsharing.Error!.Code);
    }

    [Fact]
    public async Task Requests_need_their_permissions_a_tenant_admin_neither_lists_nor_saves()
    {
        await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.TenantAdmin), secondFactor: true);

        var list = await fixture.SendAsync(new ListSubgroups.Query());
        var save = await fixture.SendAsync(new SaveSubgroup.Command(null, "admin's", null, LibrarySource.BleedingPersons, SubgroupVisibility.Private, _source));

        Assert.Equal("Auth.Forbidden", list.Error!.Code);
        Assert.Equal("Auth.Forbidden", save.Error!.Code);
    }
}
