using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;

namespace RwePortal.Application.Privacy;

/// <summary>
/// The <see cref="SmallCellPolicy"/> in force for the current tenant: its own threshold (default 11, never below 5)
/// and the platform's noise key. Every slice that shows counts gets its policy here, never builds one itself.
/// </summary>
public sealed class SmallCellPolicies(TenantDbContextFactory contexts)
{
    public async Task<SmallCellPolicy> ForCurrentTenantAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateAsync(cancellationToken);
        return await ForAsync(db, cancellationToken);
    }

    /// <summary>The policy for the tenant <paramref name="db"/> is bound to.</summary>
    public static async Task<SmallCellPolicy> ForAsync(AppDbContext db, CancellationToken cancellationToken)
    {
        var threshold = await ThresholdAsync(db, cancellationToken);
        var key = await db.SmallCellNoiseKeys.AsNoTracking()
            .Where(k => k.Id == SmallCellNoiseKey.SingleId)
            .Select(k => k.Key)
            .SingleOrDefaultAsync(cancellationToken)
            ?? throw new InvalidOperationException("The small-cell noise key is missing; the TenantSmallCellThreshold migration makes it.");
        return new SmallCellPolicy(threshold, key);
    }

    /// <summary>The threshold of the tenant <paramref name="db"/> is bound to: its setting, or the default.</summary>
    public static async Task<int> ThresholdAsync(AppDbContext db, CancellationToken cancellationToken) =>
        (await SmallCellThresholds.FindAsync(db, cancellationToken))?.SmallCellThreshold ?? SmallCellPolicy.DefaultThreshold;
}
