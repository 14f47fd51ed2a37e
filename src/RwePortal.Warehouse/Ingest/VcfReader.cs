using System.Globalization;
using System.Text.RegularExpressions;

namespace RwePortal.Warehouse.Ingest;

/// <summary>One non-reference genotype of one sample at one site, ready for variant_occurrence.</summary>
public sealed record VcfCall(
    int Line,
    string Sample,
    string Chromosome,
    long Position,
    string? Rsid,
    string ReferenceAllele,
    string AlternateAllele,
    string Zygosity,
    string? GeneSymbol,
    string? HgvsC,
    string? HgvsP,
    string? ClinicalSignificance);

/// <summary>
/// Reads VCF 4.x (one or many samples): the header's sample columns, then one call per sample and ALT allele it
/// carries. GT gives zygosity (0/1 heterozygous, 1/1 homozygous, a single allele hemizygous); gene, HGVS and ClinVar
/// significance come from INFO keys GENE (or ClinVar's GENEINFO), HGVSC, HGVSP, CLNSIG, or a SnpEff ANN field.
/// Problems are collected with line numbers instead of stopping at the first.
/// </summary>
public sealed partial class VcfReader
{
    private static readonly string[] FixedColumns = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"];

    private readonly ProblemList _problems;

    internal VcfReader(ProblemList problems)
    {
        _problems = problems;
    }

    /// <summary>Sample names of the header line, in column order.</summary>
    public IReadOnlyList<string> Samples { get; private set; } = [];

    /// <summary>The ##fileDate header (yyyyMMdd), if present and valid.</summary>
    public DateOnly? FileDate { get; private set; }

    /// <summary>Line of the #CHROM header (for problems about samples).</summary>
    public int HeaderLine { get; private set; }

    /// <summary>Reads the meta lines and the column header; false (with problems recorded) if the file is not a VCF 4.x.</summary>
    public bool ReadHeader(TextReader reader, ref int line)
    {
        var first = reader.ReadLine();
        line++;
        if (first is null || !FileFormat().IsMatch(first))
        {
            _problems.Add(line, "not a VCF 4.x file: the first line must be ##fileformat=VCFv4.x");
            return false;
        }

        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.StartsWith("##fileDate=", StringComparison.Ordinal))
            {
                if (DateOnly.TryParseExact(text["##fileDate=".Length..], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                {
                    FileDate = date;
                }

                continue;
            }

            if (text.StartsWith("##", StringComparison.Ordinal))
            {
                continue;
            }

            if (!text.StartsWith("#CHROM", StringComparison.Ordinal))
            {
                _problems.Add(line, "expected the #CHROM column header after the ## meta lines");
                return false;
            }

            HeaderLine = line;
            var columns = text.Split('\t');
            if (columns.Length < 10 || !columns.Take(8).SequenceEqual(FixedColumns, StringComparer.Ordinal) || columns[8] != "FORMAT")
            {
                _problems.Add(line, "the header must be #CHROM POS ID REF ALT QUAL FILTER INFO FORMAT followed by at least one sample column (tab-separated)");
                return false;
            }

            Samples = columns[9..];
            var duplicates = Samples.GroupBy(s => s, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            if (duplicates.Count > 0)
            {
                _problems.Add(line, $"duplicate sample columns: {string.Join(", ", duplicates)}");
                return false;
            }

            return true;
        }

        _problems.Add(line, "no #CHROM column header");
        return false;
    }

    /// <summary>Parses one data line into calls (none for reference or missing genotypes); records problems.</summary>
    public IReadOnlyList<VcfCall> ReadRecord(string text, int line)
    {
        var columns = text.Split('\t');
        if (columns.Length != 9 + Samples.Count)
        {
            _problems.Add(line, $"expected {9 + Samples.Count} tab-separated columns, found {columns.Length}");
            return [];
        }

        var problemsBefore = _problems.Count;
        var chromosome = columns[0].StartsWith("chr", StringComparison.OrdinalIgnoreCase) ? columns[0][3..] : columns[0];
        if (!Chromosome().IsMatch(chromosome))
        {
            _problems.Add(line, $"CHROM '{columns[0]}' is not a chromosome name");
        }

        if (!long.TryParse(columns[1], NumberStyles.None, CultureInfo.InvariantCulture, out var position) || position < 1)
        {
            _problems.Add(line, $"POS '{columns[1]}' is not a positive integer");
        }

        var reference = columns[3];
        if (!Allele().IsMatch(reference))
        {
            _problems.Add(line, $"REF '{reference}' is not a sequence of A, C, G, T, N");
        }

        var alternates = columns[4].Split(',');
        foreach (var alt in alternates)
        {
            if (!Allele().IsMatch(alt) && alt != "*" && alt != ".")
            {
                _problems.Add(line, $"ALT '{alt}' is not a sequence of A, C, G, T, N");
            }
        }

        var format = columns[8].Split(':');
        var gtIndex = Array.IndexOf(format, "GT");
        if (gtIndex < 0)
        {
            _problems.Add(line, "FORMAT has no GT field");
        }

        var info = ParseInfo(columns[7]);
        var rsid = columns[2].Split(';').FirstOrDefault(id => id.StartsWith("rs", StringComparison.Ordinal) && id.Length > 2 && id[2..].All(char.IsAsciiDigit));
        string? significance = null;
        if (info.TryGetValue("CLNSIG", out var clnsig) && !TryMapSignificance(clnsig, out significance))
        {
            _problems.Add(line, $"CLNSIG '{clnsig}' is not a ClinVar clinical significance");
        }

        var calls = new List<VcfCall>();
        var sex = chromosome is "X" or "Y";
        for (var s = 0; s < Samples.Count && gtIndex >= 0; s++)
        {
            var fields = columns[9 + s].Split(':');
            var gt = gtIndex < fields.Length ? fields[gtIndex] : ".";
            var alleles = gt.Split('/', '|');
            var indexes = new List<int>();
            var valid = true;
            foreach (var allele in alleles)
            {
                if (allele == ".")
                {
                    continue;
                }

                if (!int.TryParse(allele, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index > alternates.Length)
                {
                    _problems.Add(line, $"sample {Samples[s]}: GT '{gt}' does not refer to REF (0) or one of {alternates.Length} ALT allele(s)");
                    valid = false;
                    break;
                }

                indexes.Add(index);
            }

            if (!valid || _problems.Count > problemsBefore)
            {
                continue;
            }

            foreach (var altIndex in indexes.Where(i => i > 0).Distinct())
            {
                var copies = indexes.Count(i => i == altIndex);
                var zygosity = indexes.Count == 1
                    ? (sex ? "hemizygous" : "homozygous")
                    : copies == indexes.Count ? "homozygous" : "heterozygous";
                var alt = alternates[altIndex - 1];
                if (alt is "*" or ".")
                {
                    continue;
                }

                var (gene, hgvsC, hgvsP) = Annotation(info, alt);
                calls.Add(new VcfCall(line, Samples[s], chromosome, position, rsid, reference, alt, zygosity, gene, hgvsC, hgvsP, significance));
            }
        }

        return _problems.Count > problemsBefore ? [] : calls;
    }

    private static Dictionary<string, string> ParseInfo(string info)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (info == ".")
        {
            return values;
        }

        foreach (var entry in info.Split(';'))
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            values[eq < 0 ? entry : entry[..eq]] = eq < 0 ? string.Empty : entry[(eq + 1)..];
        }

        return values;
    }

    /// <summary>Gene and HGVS from GENE/GENEINFO/HGVSC/HGVSP, else from the SnpEff ANN entry of this allele.</summary>
    private static (string? Gene, string? HgvsC, string? HgvsP) Annotation(Dictionary<string, string> info, string alt)
    {
        var gene = info.GetValueOrDefault("GENE") ?? info.GetValueOrDefault("GENEINFO")?.Split('|')[0].Split(':')[0];
        var hgvsC = info.GetValueOrDefault("HGVSC");
        var hgvsP = info.GetValueOrDefault("HGVSP");
        if (info.TryGetValue("ANN", out var ann))
        {
            // ANN=Allele|Annotation|Impact|Gene_Name|Gene_ID|Feature_Type|Feature_ID|Biotype|Rank|HGVS.c|HGVS.p|...
            var entry = ann.Split(',').Select(a => a.Split('|')).FirstOrDefault(f => f.Length > 10 && f[0] == alt);
            if (entry is not null)
            {
                gene ??= NullIfEmpty(entry[3]);
                hgvsC ??= NullIfEmpty(entry[9]);
                hgvsP ??= NullIfEmpty(entry[10]);
            }
        }

        return (NullIfEmpty(gene), NullIfEmpty(hgvsC), NullIfEmpty(hgvsP));
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) || value == "." ? null : value;

    /// <summary>
    /// ClinVar CLNSIG → the warehouse's five classes. Combined calls take the weaker class
    /// (Pathogenic/Likely_pathogenic → likely_pathogenic); conflicting interpretations are uncertain; values outside
    /// the five-tier scale (drug_response, risk_factor, association, not_provided, other) leave the column empty.
    /// </summary>
    internal static bool TryMapSignificance(string clnsig, out string? significance)
    {
        var value = clnsig.Split(',', '|')[0].Trim().ToLowerInvariant().Replace(' ', '_');
        significance = value switch
        {
            "pathogenic" => "pathogenic",
            "likely_pathogenic" or "pathogenic/likely_pathogenic" => "likely_pathogenic",
            "uncertain_significance" or "conflicting_interpretations_of_pathogenicity" or "conflicting_classifications_of_pathogenicity" => "uncertain",
            "likely_benign" or "benign/likely_benign" => "likely_benign",
            "benign" => "benign",
            _ => null,
        };
        return significance is not null
            || value is "drug_response" or "risk_factor" or "association" or "protective" or "affects" or "not_provided" or "other" or "no_classification_for_the_single_variant";
    }

    [GeneratedRegex("^##fileformat=VCFv4\\.[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex FileFormat();

    [GeneratedRegex("^([1-9]|1[0-9]|2[0-2]|X|Y|M|MT)$", RegexOptions.CultureInvariant)]
    private static partial Regex Chromosome();

    [GeneratedRegex("^[ACGTNacgtn]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Allele();
}
