using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Data;

/// <summary>
/// A saved subgroup: its current state (the latest revision's name, visibility and references). Every save appends a
/// <see cref="SavedSubgroupRevision"/>; a delete marks the row, so revisions and the audit trail keep pointing at it.
/// </summary>
public sealed class SavedSubgroup : ITenantOwned, ILibraryObject
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public Guid OwnerId { get; set; }

    public string Name { get; set; } = "";

    public string? Description { get; set; }

    public SubgroupVisibility Visibility { get; set; }

    /// <summary>The current revision (1 for a new subgroup).</summary>
    public int Revision { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? DeletedAt { get; set; }

    /// <summary>The saved subgroups the current revision refers to (a delete of one of them is refused).</summary>
    public List<Guid> ReferencedSubgroups { get; set; } = [];

    /// <summary>The saved concept sets the current revision refers to.</summary>
    public List<Guid> ReferencedConceptSets { get; set; } = [];
}

/// <summary>One saved version of a subgroup, never changed once written (the portal's role cannot update or delete it).</summary>
public sealed class SavedSubgroupRevision : ITenantOwned
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public Guid SubgroupId { get; set; }

    public int Revision { get; set; }

    public string Name { get; set; } = "";

    public string? Description { get; set; }

    public SubgroupVisibility Visibility { get; set; }

    /// <summary>The definition as saved (criteria JSON, library references unresolved).</summary>
    public string Definition { get; set; } = "";

    /// <summary>The data source whose vocabulary version was recorded, when the save named one.</summary>
    public string? VocabularySource { get; set; }

    public string VocabularyVersion { get; set; } = "";

    public Guid AuthorId { get; set; }

    public DateTimeOffset SavedAt { get; set; }
}
