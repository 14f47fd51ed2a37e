namespace RwePortal.Application.Features.ConceptSets;

/// <summary>One item of a saved concept set: a concept, with or without its descendants, included or excluded.</summary>
public sealed record ConceptSetItem(int ConceptId, bool Descendants, bool Exclude);
