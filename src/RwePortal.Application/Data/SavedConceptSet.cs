using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Data;

/// <summary>A saved concept set: its current state. Criteria refer to it by id and read its current revision when counted.</summary>
public sealed class SavedConceptSet : ITenantOwned, ILibraryObject
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public Guid OwnerId { get; set; }

    public string Name { get; set; } = "";

    public string? Description { get; set; }

    public SubgroupVisibility Visibility { get; set; }

    public int Revision { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? DeletedAt { get; set; }
}

/// <summary>One saved version of a concept set, never changed once written.</summary>
public sealed class SavedConceptSetRevision : ITenantOwned
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public Guid ConceptSetId { get; set; }

    public int Revision { get; set; }

    public string Name { get; set; } = "";

    public string? Description { get; set; }

    public SubgroupVisibility Visibility { get; set; }

    /// <summary>The items as JSON: <c>[{"conceptId": 316139, "descendants": true, "exclude": false}]</c>.</summary>
    public string Items { get; set; } = "[]";

    public string? VocabularySource { get; set; }

    public string VocabularyVersion { get; set; } = "";

    public Guid AuthorId { get; set; }

    public DateTimeOffset SavedAt { get; set; }
}
