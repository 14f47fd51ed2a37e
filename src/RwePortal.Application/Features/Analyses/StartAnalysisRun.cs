using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Jobs;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Features.Analyses;

/// <summary>
/// Queues a run of a protocol's approved version on a data source granted to the tenant for the purpose. The run is
/// durable from here on (app.analysis_runs): a worker claims it, runs it as the requester in this tenant, and stores the
/// result or the failure. Without a seed the run takes the one derived from the version's content hash, so the same
/// version always runs with the same seed (decision 1043).
/// </summary>
public static class StartAnalysisRun
{
    [RequiresPermission(Permission.RunAnalyses)]
    public sealed record Command(Guid ProtocolId, int Version, string Source, string Purpose = DataPurposes.Research, int? Seed = null)
        : IRequest<Result<Response>>, IAuditTarget
    {
        public string AuditTarget => $"protocol {ProtocolId} v{Version} on {Source}";
    }

    public sealed record Response(Guid RunId);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.ProtocolId).NotEmpty();
            RuleFor(c => c.Version).GreaterThan(0);
            RuleFor(c => c.Source).NotEmpty().MaximumLength(64);
            RuleFor(c => c.Purpose).Must(DataPurposes.IsKnown).WithMessage($"Unknown purpose; use one of: {string.Join(", ", DataPurposes.All)}.");
            RuleFor(c => c.Seed).GreaterThanOrEqualTo(0).When(c => c.Seed is not null);
        }
    }

    /// <summary>The seed a run takes when none is given: the first 31 bits of the version's content hash.</summary>
    public static int DefaultSeed(string contentHash) => (int)(Convert.ToUInt32(contentHash[..8], 16) & 0x7FFFFFFF);

    internal sealed class Handler(TenantDbContextFactory contexts, ICurrentUser currentUser, IAuditTrail audit) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            await using var db = await contexts.CreateAsync(cancellationToken);
            if (user.TenantId is null)
            {
                return Error.NotFound("Protocol");
            }

            var found = await db.ProtocolVersions.AsNoTracking()
                .Where(v => v.ProtocolId == request.ProtocolId && v.Version == request.Version)
                .Join(db.Protocols, v => v.ProtocolId, p => p.Id, (v, p) => new { Version = v, p.Title })
                .SingleOrDefaultAsync(cancellationToken);
            if (found is null)
            {
                return Error.NotFound("Protocol");
            }

            var version = found.Version;
            if (version.State != ProtocolVersionState.Approved || version.ContentHash is null)
            {
                return AnalysisRunErrors.NotApproved(version.Version, version.State.ToString());
            }

            var granted = await GrantedDataSources.FindAsync(db, request.Source, request.Purpose, "Run.SourceNotGranted", cancellationToken);
            if (!granted.Succeeded)
            {
                return AnalysisRunErrors.SourceNotGranted(request.Source, request.Purpose);
            }

            var runId = Guid.NewGuid();
            var seed = request.Seed ?? DefaultSeed(version.ContentHash);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var connection = await AnalysisRunStore.ConnectionAsync(db, cancellationToken);
            await connection.ExecuteAsync(AnalysisRunStore.Command(
                db,
                """
                INSERT INTO app.analysis_runs (id, tenant_id, protocol_id, protocol_version_id, protocol_version, protocol_hash,
                    protocol_title, data_source_id, source, purpose, seed, requested_by, status, message)
                VALUES (@runId, @tenantId, @protocolId, @versionId, @version, @hash, @title, @sourceId, @source, @purpose, @seed,
                    @requestedBy, 'queued', 'Waiting for a worker')
                """,
                new
                {
                    runId,
                    tenantId = user.TenantId.Value,
                    protocolId = request.ProtocolId,
                    versionId = version.Id,
                    version = version.Version,
                    hash = version.ContentHash,
                    title = found.Title,
                    sourceId = granted.Value!.Id,
                    source = granted.Value.Name,
                    purpose = request.Purpose,
                    seed,
                    requestedBy = user.UserId,
                },
                cancellationToken));
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"{nameof(StartAnalysisRun)}: run {runId}", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["protocol"] = request.ProtocolId,
                    ["version"] = version.Version,
                    ["content_hash"] = version.ContentHash,
                    ["source"] = granted.Value.Name,
                    ["purpose"] = request.Purpose,
                    ["seed"] = seed,
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(runId);
        }
    }
}
