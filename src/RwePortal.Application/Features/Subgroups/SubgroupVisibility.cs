using System.Linq.Expressions;

namespace RwePortal.Application.Features.Subgroups;

/// <summary>Who may read a saved subgroup or concept set: its owner only, or every member of its tenant who views subgroups.</summary>
public enum SubgroupVisibility
{
    /// <summary>Only the owner sees it.</summary>
    Private,

    /// <summary>Shared with the tenant: readable by its members who view subgroups; still edited by its owner alone.</summary>
    Tenant,
}

/// <summary>A saved library object (a subgroup or a concept set): owned by one user of one tenant, never hard-deleted.</summary>
public interface ILibraryObject
{
    Guid Id { get; }

    Guid OwnerId { get; }

    string Name { get; }

    int Revision { get; }

    SubgroupVisibility Visibility { get; }

    /// <summary>Set when the object is deleted: it leaves every list and no longer resolves as a reference.</summary>
    DateTimeOffset? DeletedAt { get; set; }
}

/// <summary>
/// The one rule of who sees a library object, applied by every slice: not deleted, and the user's own or shared with
/// the tenant. Row-level security keeps other tenants' rows out beneath it (decision 0761).
/// </summary>
public static class LibraryVisibility
{
    public static IQueryable<T> VisibleTo<T>(this IQueryable<T> rows, Guid userId)
        where T : class, ILibraryObject =>
        rows.Where(VisibleTo<T>(userId));

    public static Expression<Func<T, bool>> VisibleTo<T>(Guid userId)
        where T : class, ILibraryObject =>
        row => row.DeletedAt == null && (row.OwnerId == userId || row.Visibility == SubgroupVisibility.Tenant);
}
