using RwePortal.Application.Common;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Privacy;

/// <summary>
/// A tenant's own settings, one row per tenant that changed one (none: the defaults). Tenant-owned, so row-level
/// security shows a tenant its own row only.
/// </summary>
public sealed class TenantSettings : ITenantOwned
{
    public Guid TenantId { get; set; }

    /// <summary>Counts from 1 to this − 1 are suppressed; never below <see cref="SmallCellPolicy.MinimumThreshold"/> (a CHECK constraint).</summary>
    public int SmallCellThreshold { get; set; } = SmallCellPolicy.DefaultThreshold;

    public DateTimeOffset UpdatedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The TenantAdmin who last changed the settings.</summary>
    public Guid UpdatedBy { get; set; }
}

/// <summary>
/// The platform's secret for small-cell noise: one row, 32 random bytes made by the migration. One key for every
/// tenant, so two tenants running the same query see the same noise and cannot average theirs together.
/// </summary>
public sealed class SmallCellNoiseKey
{
    public const int SingleId = 1;

    public int Id { get; set; } = SingleId;

    public byte[] Key { get; set; } = [];
}
