namespace RwePortal.Application.Tenancy;

/// <summary>The purposes a data source can be granted for; patients consent per purpose.</summary>
public static class DataPurposes
{
    public const string Research = "research";
    public const string GenomicResearch = "genomic_research";
    public const string WearableResearch = "wearable_research";
    public const string CommercialResearch = "commercial_research";
    public const string Recontact = "recontact";

    public static IReadOnlyList<string> All { get; } = [Research, GenomicResearch, WearableResearch, CommercialResearch, Recontact];

    public static bool IsKnown(string purpose) => All.Contains(purpose, StringComparer.Ordinal);
}
