using RwePortal.Warehouse.Synthetic;
using RwePortal.Warehouse.Vocabulary;

namespace RwePortal.Warehouse.Tests.Synthetic;

/// <summary>The generator's in-memory model: determinism, independence from batching, ids and concepts.</summary>
public sealed class SyntheticGeneratorTests
{
    [Fact]
    public void Same_seed_generates_identical_rows_in_every_table()
    {
        var first = SyntheticLoader.Generate(11, 1, 800);
        var second = SyntheticLoader.Generate(11, 1, 800);

        AssertSameRows(first, second);
    }

    [Fact]
    public void A_persons_rows_do_not_depend_on_how_persons_are_split_into_batches()
    {
        var whole = SyntheticLoader.Generate(5, 1, 600);
        var head = SyntheticLoader.Generate(5, 1, 250);
        var tail = SyntheticLoader.Generate(5, 251, 350);

        Assert.Equal(whole.Persons, head.Persons.Concat(tail.Persons));
        Assert.Equal(whole.Measurements, head.Measurements.Concat(tail.Measurements));
        Assert.Equal(whole.WearableDaily, head.WearableDaily.Concat(tail.WearableDaily));
        Assert.Equal(whole.Consents, head.Consents.Concat(tail.Consents));
    }

    [Fact]
    public void Another_seed_generates_other_rows()
    {
        var a = SyntheticLoader.Generate(1, 1, 200);
        var b = SyntheticLoader.Generate(2, 1, 200);

        Assert.NotEqual(a.Persons, b.Persons);
        Assert.NotEqual(a.Measurements.Select(m => m.Value), b.Measurements.Select(m => m.Value));
    }

    [Fact]
    public void Row_ids_are_unique_per_table_and_wearable_keys_are_unique()
    {
        var batch = SyntheticLoader.Generate(3, 1, 1500);

        AssertUnique(batch.Visits.Select(r => r.VisitOccurrenceId));
        AssertUnique(batch.Conditions.Select(r => r.ConditionOccurrenceId));
        AssertUnique(batch.Drugs.Select(r => r.DrugExposureId));
        AssertUnique(batch.Measurements.Select(r => r.MeasurementId));
        AssertUnique(batch.Observations.Select(r => r.ObservationId));
        AssertUnique(batch.Costs.Select(r => r.CostId));
        AssertUnique(batch.PayerPlanPeriods.Select(r => r.PayerPlanPeriodId));
        AssertUnique(batch.Variants.Select(r => r.VariantOccurrenceId));
        AssertUnique(batch.WearableDaily.Select(r => (r.PersonId, r.Date, r.Device)));
        AssertUnique(batch.WearableHourly.Select(r => (r.PersonId, r.Hour, r.Device)));
    }

    [Fact]
    public void Every_concept_the_generator_writes_is_in_the_shipped_vocabulary()
    {
        var batch = SyntheticLoader.Generate(9, 1, 1500);
        var known = VocabularySubset.Concepts.Select(c => c.ConceptId).ToHashSet();
        var used = batch.Conditions.Select(r => r.ConceptId)
            .Concat(batch.Drugs.Select(r => r.ConceptId))
            .Concat(batch.Measurements.SelectMany(r => new[] { r.ConceptId, r.UnitConceptId, r.TypeConceptId }))
            .Concat(batch.Observations.SelectMany(r => new[] { r.ConceptId, r.UnitConceptId, r.TypeConceptId }))
            .Concat(batch.Visits.SelectMany(r => new[] { r.VisitConceptId, r.TypeConceptId }))
            .Concat(batch.Persons.SelectMany(r => new[] { r.GenderConceptId, r.RaceConceptId, r.EthnicityConceptId }))
            .Concat(batch.Costs.Where(r => r.DrgConceptId is not null).Select(r => r.DrgConceptId!.Value))
            .Concat(batch.PayerPlanPeriods.Select(r => r.PayerConceptId))
            .Concat(batch.Deaths.Select(r => r.CauseConceptId))
            .Distinct()
            .ToList();

        Assert.DoesNotContain(used, id => !known.Contains(id));
    }

    [Fact]
    public void Every_modality_is_generated_in_realistic_proportions()
    {
        var batch = SyntheticLoader.Generate(13, 1, 3000);
        var persons = batch.Persons.Count;

        Assert.InRange(batch.Variants.Select(v => v.PersonId).Distinct().Count() / (double)persons, 0.2, 0.32);
        Assert.InRange(batch.GenomicScores.Count / (double)persons, 0.26, 0.34);
        Assert.InRange(batch.WearableDaily.Select(v => v.PersonId).Distinct().Count() / (double)persons, 0.33, 0.5);
        Assert.Contains(batch.Variants, v => v.Rsid == GenomicPanel.TtrV142I.Rsid && v.ClinicalSignificance == "pathogenic");
        Assert.Contains(batch.Variants, v => v.ClinicalSignificance == "benign");
        Assert.Contains(batch.Costs, c => c.DrgSourceValue is "291" or "292" or "293");
        Assert.Contains(batch.Consents, c => c.Status == "withdrawn");
        Assert.True(batch.Consents.Count(c => c.Purpose == "research" && c.Status == "granted") > batch.Consents.Count(c => c.Purpose == "genomic_research" && c.Status == "granted"));
        Assert.True(batch.PayerPlanPeriods.Count > persons, "some persons have a gap in enrollment");
        Assert.All(batch.Drugs, d => Assert.True(d.DaysSupply is 30 or 90));
    }

    private static void AssertUnique<T>(IEnumerable<T> keys)
    {
        var list = keys.ToList();
        Assert.Equal(list.Count, list.Distinct().Count());
    }

    private static void AssertSameRows(SyntheticBatch a, SyntheticBatch b)
    {
        Assert.Equal(a.Persons, b.Persons);
        Assert.Equal(a.ObservationPeriods, b.ObservationPeriods);
        Assert.Equal(a.Visits, b.Visits);
        Assert.Equal(a.Conditions, b.Conditions);
        Assert.Equal(a.Drugs, b.Drugs);
        Assert.Equal(a.Measurements, b.Measurements);
        Assert.Equal(a.Observations, b.Observations);
        Assert.Equal(a.Deaths, b.Deaths);
        Assert.Equal(a.PayerPlanPeriods, b.PayerPlanPeriods);
        Assert.Equal(a.Costs, b.Costs);
        Assert.Equal(a.Variants, b.Variants);
        Assert.Equal(a.GenomicScores, b.GenomicScores);
        Assert.Equal(a.WearableDaily, b.WearableDaily);
        Assert.Equal(a.WearableHourly, b.WearableHourly);
        Assert.Equal(a.Consents, b.Consents);
    }
}
