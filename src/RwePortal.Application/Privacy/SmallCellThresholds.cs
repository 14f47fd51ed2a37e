using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Data;

namespace RwePortal.Application.Privacy;

/// <summary>Reading a tenant's threshold setting, shared by the slices that read and set it.</summary>
public static class SmallCellThresholds
{
    /// <summary>
    /// The highest threshold a tenant may set: beyond it almost every subgroup count would be hidden, which is a
    /// mistake rather than a policy (decision 0722).
    /// </summary>
    public const int Maximum = 100;

    /// <summary>The settings row of the tenant <paramref name="db"/> is bound to, or null (defaults).</summary>
    internal static async Task<TenantSettings?> FindAsync(AppDbContext db, CancellationToken cancellationToken, bool track = false)
    {
        var settings = track ? db.TenantSettings : db.TenantSettings.AsNoTracking();
        return await settings.SingleOrDefaultAsync(cancellationToken);
    }
}
