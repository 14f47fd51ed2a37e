using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Protocols;
using RwePortal.Application.Security;
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

    public static async Task<ProtocolScenario> StartAsync(AppFixture fixture, string tenantSlug = "acme")
    {
        var tenant = await fixture.TenantIdAsync(tenantSlug);
        var domain = tenantSlug + ".test";
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
