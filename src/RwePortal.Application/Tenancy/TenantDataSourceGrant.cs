namespace RwePortal.Application.Tenancy;

/// <summary>A tenant may use a registered data source, for the named purposes only (<see cref="DataPurposes"/>).</summary>
public sealed class TenantDataSourceGrant : ITenantOwned
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public Guid DataSourceId { get; set; }

    public List<string> Purposes { get; set; } = [];

    public DateTimeOffset GrantedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>The platform Admin who granted (or last changed) it.</summary>
    public Guid GrantedBy { get; set; }
}
