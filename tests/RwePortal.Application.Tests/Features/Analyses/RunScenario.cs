using Dapper;
using Npgsql;
using RwePortal.Application.Common;
using RwePortal.Application.Features.Analyses;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Features.Protocols;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Analyses;

/// <summary>
/// A tenant of its own with an approved protocol (the synthetic example), a data source granted to it for research, and
/// its study leads (the author runs analyses); helpers that read runs as the owner (what is really stored).
/// </summary>
internal sealed class RunScenario(ProtocolScenario protocols, Guid protocolId, string source)
{
    public ProtocolScenario Protocols { get; } = protocols;

    public AppFixture Fixture => Protocols.Fixture;

    public Guid TenantId => Protocols.TenantId;

    public Guid ProtocolId { get; } = protocolId;

    public string Source { get; } = source;

    public static async Task<RunScenario> StartAsync(AppFixture fixture, string purposes = "{research}")
    {
        var protocols = await ProtocolScenario.StartAsync(fixture);
        var protocolId = await protocols.ApprovedAsync();
        var source = $"runs_{Guid.NewGuid():N}"[..16];
        var sourceId = await fixture.AddDataSourceAsync(source);
        await fixture.OwnerSqlAsync(
            $"""
            INSERT INTO app.tenant_data_source_grants (id, tenant_id, data_source_id, purposes, granted_at, granted_by)
            VALUES (gen_random_uuid(), '{protocols.TenantId}', '{sourceId}', '{purposes}', now(), gen_random_uuid())
            """);
        var scenario = new RunScenario(protocols, protocolId, source);
        await scenario.AsLeadAsync();
        return scenario;
    }

    /// <summary>The protocol's author, a study lead of the tenant.</summary>
    public Task AsLeadAsync() => Protocols.AsAuthorAsync();

    public async Task AsAnalystAsync()
    {
        var email = AppFixture.UniqueEmail("analyst", "runs.test");
        await Fixture.CreateUserAsync(email, TenantId, TenantRole.Analyst);
        await Fixture.SignInAsAsync(email);
    }

    public async Task<Guid> StartRunAsync(int? seed = null)
    {
        await AsLeadAsync();
        return (await Fixture.SendAsync(new StartAnalysisRun.Command(ProtocolId, 1, Source, "research", seed))).Unwrap().RunId;
    }

    /// <summary>Cancels every unfinished run of every tenant (as the owner), so a test's workers claim only its own runs.</summary>
    public static Task QuiesceAsync(AppFixture fixture) =>
        fixture.OwnerSqlAsync("UPDATE app.analysis_runs SET status = 'cancelled', message = 'test reset' WHERE status IN ('queued', 'running')");

    public sealed record Stored(string Status, int Attempt, string? Worker, string? ErrorCode, string? Step, bool CancelRequested, string? Result);

    public async Task<Stored> StoredAsync(Guid runId) => await Fixture.OwnerSqlRowAsync<Stored>(
        """
        SELECT status AS Status, attempt AS Attempt, worker AS Worker, error_code AS ErrorCode, step AS Step,
               cancel_requested AS CancelRequested, result::text AS Result
        FROM app.analysis_runs WHERE id = @runId
        """,
        new { runId });

    /// <summary>Waits (up to 20 s) until the stored run satisfies <paramref name="done"/>; returns it.</summary>
    public async Task<Stored> WaitAsync(Guid runId, Func<Stored, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var stored = await StoredAsync(runId);
            if (done(stored))
            {
                return stored;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"run {runId} never became {what}; it is {stored}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>A connection as the portal's role (rwe_app, its own password) pointed at a tenant.</summary>
    public Task<NpgsqlConnection> OpenAsAppAsync(Guid? tenant = null) => Protocols.OpenAsAppAsync(tenant);

    public static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, object? parameters = null) =>
        (await connection.ExecuteScalarAsync<T>(sql, parameters))!;

    public static void AssertFailed<T>(Result<T> result, string code) => ProtocolScenario.AssertFailed(result, code);
}
