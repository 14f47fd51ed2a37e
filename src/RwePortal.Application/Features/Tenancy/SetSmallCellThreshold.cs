using FluentValidation;
using MediatR;
using RwePortal.Application.Audit;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;

namespace RwePortal.Application.Features.Tenancy;

/// <summary>
/// Sets the current tenant's small-cell threshold (from <see cref="SmallCellPolicy.MinimumThreshold"/> to
/// <see cref="SmallCellThresholds.Maximum"/>); a TenantAdmin's decision, audited with the value before and after.
/// Only the admin's own tenant: the command names no tenant, and row-level security holds the row to it.
/// </summary>
public static class SetSmallCellThreshold
{
    [RequiresPermission(Permission.ManageTenantUsers)]
    public sealed record Command(int Threshold) : IRequest<Result<Response>>;

    public sealed record Response(int Threshold, int Previous);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator() =>
            RuleFor(c => c.Threshold)
                .InclusiveBetween(SmallCellPolicy.MinimumThreshold, SmallCellThresholds.Maximum)
                .WithMessage($"The small-cell threshold is between {SmallCellPolicy.MinimumThreshold} and {SmallCellThresholds.Maximum}.");
    }

    internal sealed class Handler(ICurrentUser currentUser, AppDbContext db, IAuditTrail audit) : IRequestHandler<Command, Result<Response>>
    {
        public async Task<Result<Response>> Handle(Command request, CancellationToken cancellationToken)
        {
            var user = await currentUser.GetAsync(cancellationToken);
            if (user.TenantId is not { } tenantId || db.Scope.TenantId != tenantId)
            {
                return Error.NotFound("Tenant");
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var settings = await SmallCellThresholds.FindAsync(db, cancellationToken, track: true);
            var previous = settings?.SmallCellThreshold ?? SmallCellPolicy.DefaultThreshold;
            if (settings is null)
            {
                settings = new TenantSettings { TenantId = tenantId };
                db.TenantSettings.Add(settings);
            }

            settings.SmallCellThreshold = request.Threshold;
            settings.UpdatedAt = DateTimeOffset.UtcNow;
            settings.UpdatedBy = user.UserId;
            await db.SaveChangesAsync(cancellationToken);
            await audit.RecordChangeAsync(
                db,
                new AuditRecord(AuditEventTypes.Command, $"SetSmallCellThreshold: tenant {user.TenantName} ({tenantId})", AuditOutcomes.Success, new Dictionary<string, object?>
                {
                    ["before"] = new { small_cell_threshold = previous },
                    ["after"] = new { small_cell_threshold = request.Threshold },
                }),
                cancellationToken: cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new Response(request.Threshold, previous);
        }
    }
}
