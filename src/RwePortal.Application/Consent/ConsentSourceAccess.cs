using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Consent;

/// <summary>
/// Which data sources' consent the current user may see and change: every registered source for a platform
/// Admin; for a tenant's administrator, only the sources granted to their tenant (any purpose). A source outside
/// that set answers "not found", like any other tenant's object.
/// </summary>
internal sealed class ConsentSourceAccess(ICurrentUser currentUser, TenantDbContextFactory contexts)
{
    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken)
    {
        var user = await currentUser.GetAsync(cancellationToken);
        await using var db = await contexts.CreateAsync(cancellationToken);
        var names = user.IsPlatformAdmin
            ? db.DataSources.AsNoTracking().Select(s => s.Name)
            : db.DataSourceGrants.AsNoTracking().Join(db.DataSources, g => g.DataSourceId, s => s.Id, (g, s) => s.Name);
        return await names.Distinct().OrderBy(name => name).ToListAsync(cancellationToken);
    }

    public async Task<bool> AllowsAsync(string source, CancellationToken cancellationToken) =>
        (await ListAsync(cancellationToken)).Contains(source, StringComparer.Ordinal);
}
