namespace RwePortal.Warehouse.Synthetic;

/// <summary>One variant of the synthetic sequencing panel (GRCh38 coordinates, dbSNP rsIDs).</summary>
public sealed record PanelVariant(
    string GeneSymbol,
    string HgvsC,
    string HgvsP,
    string Rsid,
    string Chromosome,
    long Position,
    string ReferenceAllele,
    string AlternateAllele,
    string ClinicalSignificance,
    double AlleleFrequency,
    string Note);

/// <summary>
/// The variants the generator draws for sequenced persons. Only variants whose rsID and GRCh38 position are well
/// established are listed; drug-response and risk-factor alleles, which ClinVar does not classify as Mendelian,
/// are recorded as 'uncertain' or 'benign' and say so in variant_source_value.
/// </summary>
public static class GenomicPanel
{
    public static readonly PanelVariant TtrV142I = new(
        "TTR", "c.424G>A", "p.Val142Ile", "rs76992529", "18", 31598655, "G", "A", "pathogenic", 0, "hereditary ATTR amyloidosis (legacy V122I)");

    /// <summary>Variants drawn independently by allele frequency (Hardy-Weinberg zygosity); TTR V142I is drawn by the model.</summary>
    public static IReadOnlyList<PanelVariant> Common { get; } =
    [
        new("APOE", "c.388T>C", "p.Cys130Arg", "rs429358", "19", 44908684, "T", "C", "uncertain", 0.14, "APOE e4 defining allele (risk factor)"),
        new("APOE", "c.526C>T", "p.Arg176Cys", "rs7412", "19", 44908822, "C", "T", "benign", 0.08, "APOE e2 defining allele"),
        new("CYP2C19", "c.681G>A", "p.Pro227=", "rs4244285", "10", 94781859, "G", "A", "uncertain", 0.15, "CYP2C19*2 (drug response: clopidogrel)"),
        new("CYP2C19", "c.-806C>T", "p.=", "rs12248560", "10", 94761900, "C", "T", "benign", 0.20, "CYP2C19*17 (drug response)"),
        new("HFE", "c.845G>A", "p.Cys282Tyr", "rs1800562", "6", 26092913, "G", "A", "pathogenic", 0.06, "hereditary haemochromatosis"),
        new("HFE", "c.187C>G", "p.His63Asp", "rs1799945", "6", 26090951, "C", "G", "benign", 0.14, "HFE H63D"),
        new("F5", "c.1601G>A", "p.Arg534Gln", "rs6025", "1", 169549811, "C", "T", "pathogenic", 0.025, "factor V Leiden (thrombophilia risk)"),
        new("MTHFR", "c.665C>T", "p.Ala222Val", "rs1801133", "1", 11796321, "G", "A", "benign", 0.30, "MTHFR C677T"),
    ];

    public const string PolygenicScoreId = "RWE-PRS-HF-1";
    public const string PolygenicScoreName = "Heart failure polygenic risk score (synthetic, standardised)";
}
