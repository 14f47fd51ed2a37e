using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;

namespace RwePortal.Application.Features.Vocabulary;

/// <summary>A data source as the current tenant sees it through its own grant: the registry row and the granted purposes.</summary>
internal sealed record GrantedSource(string Name, string SchemaName, IReadOnlyList<string> Purposes);

internal static class GrantedSources
{
    /// <summary>
    /// The source named <paramref name="name"/> if the current tenant holds a grant for it (the query filter and
    /// row-level security keep other tenants' grants out), else <c>DataSource.NotFound</c>; with a purpose, also
    /// <c>Vocabulary.PurposeNotGranted</c> when the grant does not name it.
    /// </summary>
    public static async Task<Result<GrantedSource>> FindAsync(AppDbContext db, string name, string? purpose, CancellationToken cancellationToken)
    {
        var granted = await db.DataSourceGrants.AsNoTracking()
            .Join(db.DataSources, g => g.DataSourceId, s => s.Id, (g, s) => new { s.Name, s.SchemaName, g.Purposes })
            .SingleOrDefaultAsync(x => x.Name == name, cancellationToken);
        if (granted is null)
        {
            return Error.NotFound("DataSource");
        }

        if (purpose is not null && !granted.Purposes.Contains(purpose))
        {
            return new Error("Vocabulary.PurposeNotGranted", $"{name} is not granted to this tenant for {purpose}.");
        }

        return new GrantedSource(granted.Name, granted.SchemaName, granted.Purposes);
    }
}
