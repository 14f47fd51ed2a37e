using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;

namespace RwePortal.Application.Consent;

/// <summary>
/// A data source as the consent pages see it: who its custodian is, and whether the current user acts for that
/// custodian (their current tenant is the custodian: its TenantAdmins, or the platform Admin switched to it).
/// </summary>
public sealed record ConsentSource(string Name, Guid? CustodianTenantId, string? CustodianName, bool IsCustodian);

/// <summary>
/// Which data sources' consent the current user may see, and what they may do with it. A tenant's administrator sees
/// the sources granted to their tenant (any purpose) and those their tenant is custodian of; the platform Admin sees
/// every registered source. Only the custodian records, imports or edits consent and sees person-level history;
/// everyone else sees counts. A source outside the visible set answers "not found", like any other tenant's object.
/// </summary>
internal sealed class ConsentSourceAccess(ICurrentUser currentUser, TenantDbContextFactory contexts)
{
    public async Task<IReadOnlyList<ConsentSource>> ListAsync(CancellationToken cancellationToken)
    {
        var user = await currentUser.GetAsync(cancellationToken);
        await using var db = await contexts.CreateAsync(cancellationToken);
        var granted = db.DataSourceGrants.AsNoTracking().Select(g => g.DataSourceId);
        var sources = db.DataSources.AsNoTracking();
        if (!user.IsPlatformAdmin)
        {
            var tenantId = user.TenantId;
            sources = sources.Where(s => granted.Contains(s.Id) || (tenantId != null && s.CustodianTenantId == tenantId));
        }

        var rows = await sources
            .OrderBy(s => s.Name)
            .Select(s => new
            {
                s.Name,
                s.CustodianTenantId,
                CustodianName = db.Tenants.Where(t => t.Id == s.CustodianTenantId).Select(t => t.Name).FirstOrDefault(),
            })
            .ToListAsync(cancellationToken);
        return rows
            .Select(r => new ConsentSource(
                r.Name,
                r.CustodianTenantId,
                r.CustodianName,
                r.CustodianTenantId is { } custodian && custodian == user.TenantId))
            .ToList();
    }

    /// <summary>The source if the current user may see its consent (counts at least), else null.</summary>
    public async Task<ConsentSource?> FindAsync(string source, CancellationToken cancellationToken) =>
        (await ListAsync(cancellationToken)).FirstOrDefault(s => s.Name == source);

    /// <summary>
    /// The source if the current user acts for its custodian; otherwise the error to answer: not found (not visible),
    /// no custodian yet, or forbidden (visible through a grant, held by another tenant).
    /// </summary>
    public async Task<Result<ConsentSource>> RequireCustodianAsync(string source, CancellationToken cancellationToken)
    {
        var found = await FindAsync(source, cancellationToken);
        if (found is null)
        {
            return Error.NotFound("DataSource");
        }

        if (found.CustodianTenantId is null)
        {
            return new Error(
                ConsentErrors.NoCustodian,
                $"Data source '{source}' has no custodian yet: the platform Admin names one on the Data sources page before consent is recorded.");
        }

        return found.IsCustodian
            ? found
            : new Error(
                ConsentErrors.Forbidden,
                $"Consent of '{source}' is held by its custodian, {found.CustodianName}: only their administrators record it and see it per person.");
    }
}

/// <summary>Stable error codes of the consent slices.</summary>
public static class ConsentErrors
{
    public const string Forbidden = "Consent.Forbidden";
    public const string NoCustodian = "Consent.NoCustodian";
    public const string UnknownPurpose = "Consent.UnknownPurpose";
    public const string FutureWithdrawal = "Consent.FutureWithdrawal";
}
