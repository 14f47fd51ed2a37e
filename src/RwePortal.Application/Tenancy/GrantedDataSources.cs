using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Tenancy;

/// <summary>
/// A data source as the tenant of a context sees it: only through the tenant's own grant, and only for a granted
/// purpose. The one look-up every warehouse slice makes before it reads anything.
/// </summary>
public static class GrantedDataSources
{
    /// <summary>
    /// The source named <paramref name="sourceName"/> when it is granted to the context's tenant for <paramref name="purpose"/>;
    /// else <c>DataSource.NotFound</c> (no grant: the source is not named to the tenant) or the error
    /// <paramref name="purposeNotGrantedCode"/> (granted, but not for this purpose).
    /// </summary>
    public static async Task<Result<DataSource>> FindAsync(
        AppDbContext db, string sourceName, string purpose, string purposeNotGrantedCode, CancellationToken cancellationToken)
    {
        var granted = await db.DataSourceGrants.AsNoTracking()
            .Join(db.DataSources, g => g.DataSourceId, s => s.Id, (g, s) => new { Grant = g, Source = s })
            .SingleOrDefaultAsync(x => x.Source.Name == sourceName, cancellationToken);
        if (granted is null)
        {
            return Error.NotFound("DataSource");
        }

        if (!granted.Grant.Purposes.Contains(purpose))
        {
            return new Error(purposeNotGrantedCode, $"{sourceName} is not granted to this tenant for {purpose}.");
        }

        var s = granted.Source;
        return new DataSource(s.Id, s.Name, s.Description, s.CdmVersion, s.SchemaName, s.CreatedAt, s.LoadedAt, new Dictionary<string, long>(), s.CustodianTenantId);
    }
}
