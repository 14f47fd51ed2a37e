namespace RwePortal.Application.Tenancy;

/// <summary>
/// A row that belongs to one tenant. Every such entity is filtered by the current tenant in EF Core
/// (<see cref="Data.AppDbContext"/>) and by row-level security in PostgreSQL (db/app/rls.sql).
/// </summary>
public interface ITenantOwned
{
    Guid TenantId { get; }
}
