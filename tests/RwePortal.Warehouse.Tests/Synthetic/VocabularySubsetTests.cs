using RwePortal.Warehouse.Vocabulary;

namespace RwePortal.Warehouse.Tests.Synthetic;

/// <summary>The shipped vocabulary subset: hierarchy depth, a complete concept_ancestor, and db/vocabulary in sync.</summary>
public sealed class VocabularySubsetTests
{
    [Fact]
    public void Heart_failure_has_descendants_three_levels_deep()
    {
        var below = VocabularySubset.Ancestors.Where(a => a.AncestorConceptId == ConceptIds.HeartFailure && a.DescendantConceptId != ConceptIds.HeartFailure).ToList();

        Assert.Contains(below, a => a.DescendantConceptId == ConceptIds.CongestiveHeartFailure && a.MinLevelsOfSeparation == 1);
        Assert.Contains(below, a => a.DescendantConceptId == ConceptIds.HeartFailureReducedEf && a.MinLevelsOfSeparation == 2);
        Assert.Contains(below, a => a.DescendantConceptId == ConceptIds.AcuteOnChronicSystolicHeartFailure && a.MaxLevelsOfSeparation == 4);
        Assert.True(below.Count >= 10);
        Assert.Contains(VocabularySubset.Ancestors, a => a.AncestorConceptId == ConceptIds.DisorderOfCardiovascularSystem && a.DescendantConceptId == ConceptIds.AcuteOnChronicSystolicHeartFailure);
    }

    [Fact]
    public void Concept_ancestor_has_a_self_row_for_every_standard_concept_and_min_never_exceeds_max()
    {
        var standard = VocabularySubset.Concepts.Where(c => c.StandardConcept is "S" or "C").Select(c => c.ConceptId).ToList();

        Assert.All(standard, id => Assert.Contains(VocabularySubset.Ancestors, a => a.AncestorConceptId == id && a.DescendantConceptId == id && a.MaxLevelsOfSeparation == 0));
        Assert.All(VocabularySubset.Ancestors, a => Assert.True(a.MinLevelsOfSeparation <= a.MaxLevelsOfSeparation));
    }

    [Fact]
    public void Concept_ancestor_is_transitively_closed()
    {
        var pairs = VocabularySubset.Ancestors.Select(a => (a.AncestorConceptId, a.DescendantConceptId)).ToHashSet();
        foreach (var (ancestor, middle) in pairs)
        {
            foreach (var (_, descendant) in pairs.Where(p => p.AncestorConceptId == middle))
            {
                Assert.Contains((ancestor, descendant), pairs);
            }
        }
    }

    [Fact]
    public void Local_concepts_use_the_local_range_and_vocabulary()
    {
        Assert.All(VocabularySubset.Concepts.Where(c => c.ConceptId >= ConceptIds.LocalRangeStart), c => Assert.Equal("RwePortal", c.VocabularyId));
        Assert.All(VocabularySubset.Concepts.Where(c => c.VocabularyId == "RwePortal"), c => Assert.True(c.ConceptId >= ConceptIds.LocalRangeStart));
        Assert.Equal(VocabularySubset.Concepts.Count, VocabularySubset.Concepts.Select(c => c.ConceptId).Distinct().Count());
    }

    [Fact]
    public void The_csv_files_in_db_vocabulary_match_the_subset()
    {
        var folder = Path.Combine(RepositoryRoot(), "db", "vocabulary");
        foreach (var (file, content) in VocabularyCsv.Render())
        {
            Assert.True(File.Exists(Path.Combine(folder, file)), $"db/vocabulary/{file} is missing");
            Assert.Equal(content, File.ReadAllText(Path.Combine(folder, file)));
        }
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "RwePortal.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("RwePortal.sln not found above the test binaries");
    }
}
