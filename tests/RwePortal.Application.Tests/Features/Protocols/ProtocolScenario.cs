using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Protocols;

/// <summary>
/// A protocol's people and steps for tests: a fresh author and reviewer (study leads of a demo tenant, the demo
/// password), the example protocols of docs/examples/protocols, and the review steps through the mediator.
/// </summary>
internal sealed class ProtocolScenario(AppFixture fixture, Guid tenantId, string authorEmail, string reviewerEmail)
{
    public const string Synthetic = "synthetic-arni-vs-enalapril.json";

    public AppFixture Fixture { get; } = fixture;

    public Guid TenantId { get; } = tenantId;

    public string AuthorEmail { get; } = authorEmail;

    public string ReviewerEmail { get; } = reviewerEmail;

    /// <summary>A tenant of its own (so the demo tenants' members stay as other tests expect them) with an author and a reviewer.</summary>
    public static async Task<ProtocolScenario> StartAsync(AppFixture fixture)
    {
        var slug = $"p-{Guid.NewGuid():N}"[..14];
        var tenant = new Tenant { Name = $"Protocol tests {slug}", Slug = slug };
        await using (var db = await fixture.CreateDbContextAsync())
        {
            db.Tenants.Add(tenant);
            await db.SaveChangesAsync();
        }

        return await StartAsync(fixture, tenant.Id, slug);
    }

    private static async Task<ProtocolScenario> StartAsync(AppFixture fixture, Guid tenant, string slug)
    {
        var domain = slug + ".test";
        var author = AppFixture.UniqueEmail("author", domain);
        var reviewer = AppFixture.UniqueEmail("reviewer", domain);
        await fixture.CreateUserAsync(author, tenant, TenantRole.StudyLead);
        await fixture.CreateUserAsync(reviewer, tenant, TenantRole.StudyLead);
        return new ProtocolScenario(fixture, tenant, author, reviewer);
    }

    public static string Example(string name = Synthetic) => File.ReadAllText(Path.Combine(ExamplesFolder, name));

    /// <summary>The example with one change to its JSON tree.</summary>
    public static string Edit(string document, Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(document)!.AsObject();
        edit(root);
        return root.ToJsonString();
    }

    /// <summary>Lower-case hex SHA-256 of the text's UTF-8 bytes, computed here and not by the code under test.</summary>
    public static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public Task AsAuthorAsync() => Fixture.SignInAsAsync(AuthorEmail);

    public Task AsReviewerAsync() => Fixture.SignInAsAsync(ReviewerEmail);

    /// <summary>The author creates the protocol with the example document and submits version 1.</summary>
    public async Task<Guid> SubmittedAsync(string? document = null)
    {
        await AsAuthorAsync();
        var created = (await Fixture.SendAsync(new CreateProtocol.Command("ARNI vs enalapril", document ?? Example()))).Unwrap();
        var submitted = (await Fixture.SendAsync(new SubmitProtocolVersion.Command(created.Id, 1))).Unwrap();
        Assert.True(submitted.Submitted, string.Join("; ", submitted.Errors));
        return created.Id;
    }

    /// <summary>Version 1 submitted by the author and signed by the reviewer.</summary>
    public async Task<Guid> ApprovedAsync(string? document = null)
    {
        var id = await SubmittedAsync(document);
        await AsReviewerAsync();
        (await Fixture.SendAsync(new ApproveProtocolVersion.Command(id, 1, DemoSeeder.Password, "Fit for purpose."))).Unwrap();
        return id;
    }

    /// <summary>A connection as the portal's role (rwe_app, its own password) with the tenant set, as the portal opens them.</summary>
    public async Task<NpgsqlConnection> OpenAsAppAsync(Guid? tenant = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(Fixture.Database.AppConnectionString) { Pooling = false };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync("SELECT set_config('rwe.tenant_id', @tenant, false)", new { tenant = (tenant ?? TenantId).ToString() });
        return connection;
    }

    public async Task<T> OwnerScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(Fixture.Database.OwnerConnectionString);
        await connection.OpenAsync();
        return await connection.ExecuteScalarAsync<T>(sql, parameters) ?? throw new InvalidOperationException("no value: " + sql);
    }

    /// <summary>
    /// One protocol with a row in every protocol table (approved version, revision, review, signature, amendment) in
    /// <paramref name="tenant"/>, written as the owner the way the slices write them, for tests of all tenant-owned tables.
    /// </summary>
    public static async Task SeedRowsAsOwnerAsync(AppFixture fixture, Guid tenant)
    {
        await using var connection = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync(
            """
            WITH p AS (
                INSERT INTO app.protocols (id, tenant_id, title, created_by, created_at, updated_at, latest_version)
                VALUES (@protocol, @tenant, 'Seeded protocol', @author, now(), now(), 1) RETURNING id)
            INSERT INTO app.protocol_versions (id, tenant_id, protocol_id, version, state, document, revision, created_by, created_at, updated_at)
            SELECT @version, @tenant, p.id, 1, 'Draft', '{"version":1}', 1, @author, now(), now() FROM p;
            INSERT INTO app.protocol_revisions (id, tenant_id, version_id, revision, document, author_id, saved_at)
            VALUES (gen_random_uuid(), @tenant, @version, 1, '{"version":1}', @author, now());
            UPDATE app.protocol_versions SET state = 'InReview', content_hash = app.protocol_document_hash(document),
                submitted_by = @author, submitted_at = now() WHERE id = @version;
            INSERT INTO app.protocol_reviews (id, tenant_id, version_id, reviewer_id, decision, content_hash, decided_at)
            SELECT gen_random_uuid(), @tenant, @version, @reviewer, 'Approved', content_hash, now() FROM app.protocol_versions WHERE id = @version;
            INSERT INTO app.protocol_signatures (id, tenant_id, version_id, signer_id, printed_name, signed_at, meaning, content_hash)
            SELECT gen_random_uuid(), @tenant, @version, @reviewer, 'Seeded reviewer', now(), 'approved as protocol of record', content_hash
            FROM app.protocol_versions WHERE id = @version;
            UPDATE app.protocol_versions SET state = 'Approved', decided_at = now() WHERE id = @version;
            INSERT INTO app.protocol_amendments (id, tenant_id, protocol_id, from_version, to_version, reason, author_id, created_at)
            VALUES (gen_random_uuid(), @tenant, @protocol, 1, 2, 'Seeded amendment', @author, now());
            """,
            new { tenant, protocol = Guid.NewGuid(), version = Guid.NewGuid(), author = Guid.NewGuid(), reviewer = Guid.NewGuid() });
    }

    public static void AssertFailed<T>(Result<T> result, string code)
    {
        Assert.False(result.Succeeded, $"expected {code}, got success");
        Assert.Equal(code, result.Error!.Code);
    }

    private static string ExamplesFolder
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "docs", "examples", "protocols");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new DirectoryNotFoundException("docs/examples/protocols not found above " + AppContext.BaseDirectory);
        }
    }
}
