using RwePortal.Warehouse.Quality;
using RwePortal.Warehouse.Tests.Loading;

namespace RwePortal.Warehouse.Tests.Quality;

[Collection(EunomiaCollection.Name)]
public sealed class EunomiaDataQualityTests(EunomiaFixture eunomia)
{
    [Fact]
    public async Task Dq_on_eunomia_reports_observation_periods_of_persons_missing_from_person_and_fails_without_crashing()
    {
        var report = await new DataQualityRunner(eunomia.DataSource).RunAsync(EunomiaFixture.SourceName, CancellationToken.None);

        var orphans = report.Results.Single(r => r.Id == "consistency.person_exists.observation_period");
        Assert.Equal(DqStatus.Fail, orphans.Status);
        Assert.True(orphans.Violating > 0);
        Assert.Equal(5343, orphans.Total);
        Assert.False(report.Passed);
        Assert.True(report.VocabularyLoaded);
    }

    [Fact]
    public async Task Dq_on_eunomia_reports_its_duplicate_event_ids_and_treats_its_empty_tables_as_not_applicable()
    {
        var report = await new DataQualityRunner(eunomia.DataSource).RunAsync(EunomiaFixture.SourceName, CancellationToken.None);
        var byId = report.Results.ToDictionary(r => r.Id);

        Assert.Equal(DqStatus.Fail, byId["conformance.primary_key_unique.drug_exposure"].Status);
        Assert.Equal(4384, byId["conformance.primary_key_unique.drug_exposure"].Violating);
        Assert.Equal(DqStatus.Pass, byId["conformance.primary_key_unique.person"].Status);
        Assert.Equal(DqStatus.NotApplicable, byId["completeness.required_fields.death"].Status);
        Assert.Equal(DqStatus.NotApplicable, byId["consistency.claims_before_first_observation.cost"].Status);
        Assert.Equal(DqStatus.Pass, byId["completeness.required_fields.person"].Status);
        Assert.Equal(report.Results.Count, byId.Count);
    }
}
