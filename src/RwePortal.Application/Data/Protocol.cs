using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Data;

/// <summary>Where a version is in its life: Draft → InReview → Approved (locked) → Superseded, or InReview → Rejected → Draft.</summary>
public enum ProtocolVersionState
{
    Draft,
    InReview,
    Approved,
    Rejected,
    Superseded,
}

/// <summary>
/// A target-trial-emulation protocol of a tenant: its title and where it came from. Its content lives in numbered
/// <see cref="ProtocolVersion"/>s; nothing here is signed, so the title can change while versions stay locked.
/// </summary>
public sealed class Protocol : ITenantOwned
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public string Title { get; set; } = "";

    public Guid CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The highest version number (1 for a new protocol).</summary>
    public int LatestVersion { get; set; }

    /// <summary>For an imported protocol: the export it came from (JSON: protocol id, version, state, hash, exported at).</summary>
    public string? ImportedFrom { get; set; }
}

/// <summary>
/// One version of a protocol. Drafts change by revisions; once submitted the content is fixed, and once approved
/// the row is locked in the database (db/app/protocols.sql): only the move Approved → Superseded remains.
/// </summary>
public sealed class ProtocolVersion : ITenantOwned
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public Guid ProtocolId { get; set; }

    public int Version { get; set; }

    public ProtocolVersionState State { get; set; }

    /// <summary>The protocol document: as last saved while a draft, the canonical JSON from submission on.</summary>
    public string Document { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of the canonical document, set at submission (null while a draft).</summary>
    public string? ContentHash { get; set; }

    /// <summary>The current revision of the draft (every save appends one).</summary>
    public int Revision { get; set; }

    public Guid CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public Guid? SubmittedBy { get; set; }

    public DateTimeOffset? SubmittedAt { get; set; }

    public DateTimeOffset? DecidedAt { get; set; }

    public DateTimeOffset? SupersededAt { get; set; }

    /// <summary>The version whose approval superseded this one.</summary>
    public int? SupersededByVersion { get; set; }
}

/// <summary>One save of a draft, never changed once written.</summary>
public sealed class ProtocolRevision : ITenantOwned
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public Guid VersionId { get; set; }

    public int Revision { get; set; }

    public string Document { get; set; } = "";

    public Guid AuthorId { get; set; }

    public DateTimeOffset SavedAt { get; set; }
}

public enum ProtocolReviewDecision
{
    Approved,
    Rejected,
}

/// <summary>A reviewer's decision on a submitted version, with their comments; append-only.</summary>
public sealed class ProtocolReview : ITenantOwned
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public Guid VersionId { get; set; }

    public Guid ReviewerId { get; set; }

    public ProtocolReviewDecision Decision { get; set; }

    public string? Comment { get; set; }

    /// <summary>The content hash the reviewer decided on.</summary>
    public string ContentHash { get; set; } = "";

    public DateTimeOffset DecidedAt { get; set; }
}

/// <summary>
/// An electronic signature (21 CFR Part 11 style): who signed (id and printed name), when (server UTC), what it
/// means, and the content hash of the version it is bound to. Append-only; the database refuses any change.
/// </summary>
public sealed class ProtocolSignature : ITenantOwned
{
    public const string ApprovedMeaning = "approved as protocol of record";

    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public Guid VersionId { get; set; }

    public Guid SignerId { get; set; }

    public string PrintedName { get; set; } = "";

    public DateTimeOffset SignedAt { get; set; }

    public string Meaning { get; set; } = ApprovedMeaning;

    public string ContentHash { get; set; } = "";
}

/// <summary>An entry of the amendments log: the approved version amended, the draft it opened, why, by whom, when.</summary>
public sealed class ProtocolAmendment : ITenantOwned
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public Guid TenantId { get; set; }

    public Guid ProtocolId { get; set; }

    public int FromVersion { get; set; }

    public int ToVersion { get; set; }

    public string Reason { get; set; } = "";

    public Guid AuthorId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
