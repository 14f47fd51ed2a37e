using System.Globalization;
using System.Text;

namespace RwePortal.Warehouse.Vocabulary;

/// <summary>
/// Renders <see cref="VocabularySubset"/> as OMOP vocabulary files in the Athena download format (tab-separated,
/// lowercase header, dates as yyyyMMdd), the content of db/vocabulary/*.csv, which `rwe load-omop` also reads.
/// </summary>
public static class VocabularyCsv
{
    /// <summary>File name (table name + .csv) → content, for every vocabulary table of the subset.</summary>
    public static IReadOnlyDictionary<string, string> Render()
    {
        var start = VocabularyLoader.ValidStart.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var end = VocabularyLoader.ValidEnd.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        return new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["concept.csv"] = Table(
                ["concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id", "standard_concept", "concept_code", "valid_start_date", "valid_end_date", "invalid_reason"],
                VocabularySubset.Concepts.Select(c => new[] { I(c.ConceptId), c.ConceptName, c.DomainId, c.VocabularyId, c.ConceptClassId, c.StandardConcept ?? string.Empty, c.ConceptCode, start, end, string.Empty })),
            ["concept_ancestor.csv"] = Table(
                ["ancestor_concept_id", "descendant_concept_id", "min_levels_of_separation", "max_levels_of_separation"],
                VocabularySubset.Ancestors.Select(a => new[] { I(a.AncestorConceptId), I(a.DescendantConceptId), I(a.MinLevelsOfSeparation), I(a.MaxLevelsOfSeparation) })),
            ["concept_relationship.csv"] = Table(
                ["concept_id_1", "concept_id_2", "relationship_id", "valid_start_date", "valid_end_date", "invalid_reason"],
                VocabularySubset.Relationships.Select(r => new[] { I(r.ConceptId1), I(r.ConceptId2), r.RelationshipId, start, end, string.Empty })),
            ["vocabulary.csv"] = Table(
                ["vocabulary_id", "vocabulary_name", "vocabulary_reference", "vocabulary_version", "vocabulary_concept_id"],
                VocabularySubset.Vocabularies.Select(v => new[] { v.VocabularyId, v.VocabularyName, v.VocabularyReference, v.VocabularyVersion, I(v.VocabularyConceptId) })),
            ["domain.csv"] = Table(
                ["domain_id", "domain_name", "domain_concept_id"],
                VocabularySubset.Domains.Select(d => new[] { d.DomainId, d.DomainName, I(d.DomainConceptId) })),
            ["concept_class.csv"] = Table(
                ["concept_class_id", "concept_class_name", "concept_class_concept_id"],
                VocabularySubset.ConceptClasses.Select(c => new[] { c.ConceptClassId, c.ConceptClassName, I(c.ConceptClassConceptId) })),
        };
    }

    /// <summary>Writes the files into <paramref name="directory"/> (created if missing).</summary>
    public static void WriteAll(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var (file, content) in Render())
        {
            File.WriteAllText(Path.Combine(directory, file), content, new UTF8Encoding(false));
        }
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Table(string[] header, IEnumerable<string[]> rows)
    {
        var text = new StringBuilder();
        text.Append(string.Join('\t', header)).Append('\n');
        foreach (var row in rows)
        {
            text.Append(string.Join('\t', row)).Append('\n');
        }

        return text.ToString();
    }
}
