using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Features.Vocabulary;

namespace RwePortal.Web.Features.Subgroups;

/// <summary>What every card of the builder needs besides its own criterion: the source, the pickers' data, the errors.</summary>
public sealed record BuilderContext(
    string? Source,
    bool HasIndex,
    ListSourceGenes.Response? Genes,
    CriteriaErrors Errors,
    IReadOnlyList<ListSubgroups.Item>? Library = null,
    Guid? Editing = null,
    bool ReadOnly = false);
