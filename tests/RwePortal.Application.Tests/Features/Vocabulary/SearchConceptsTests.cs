using RwePortal.Application.Data;
using RwePortal.Application.Features.Vocabulary;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;
using static RwePortal.Application.Tests.Features.Vocabulary.VocabularySource;

namespace RwePortal.Application.Tests.Features.Vocabulary;

/// <summary>Concept type-ahead through the mediator, as an analyst of the tenant granted the source, as the warehouse reader.</summary>
[Collection(AppCollection.Name)]
public sealed class SearchConceptsTests(AppFixture fixture) : IAsyncLifetime
{
    private string _source = "";

    public async Task InitializeAsync() => _source = await CreateAsync(fixture);

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<IReadOnlyList<SearchConcepts.Concept>> SearchAsync(string text, string? domain = null)
    {
        await fixture.SignInAsAsync(AcmeAnalyst);
        return (await fixture.SendAsync(new SearchConcepts.Query(_source, text, domain))).Unwrap();
    }

    [Fact]
    public async Task A_name_finds_standard_concepts_first_then_source_and_classification_concepts_with_their_flags()
    {
        var concepts = await SearchAsync("heart failure");

        // Exact name first, then standard concepts by length, then the rest (hand-ordered from the arrangement).
        Assert.Equal([HeartFailure, CongestiveHeartFailure, HeartFailureIcd10, CardiacTherapy], concepts.Select(c => c.ConceptId));
        Assert.Equal(SearchConcepts.ConceptStandard.Standard, concepts[0].Standard);
        Assert.Equal((SearchConcepts.ConceptStandard.Source, "ICD10CM", "I50.9"), (concepts[2].Standard, concepts[2].Vocabulary, concepts[2].Code));
        Assert.Equal((SearchConcepts.ConceptStandard.Classification, "Drug"), (concepts[3].Standard, concepts[3].Domain));
    }

    [Fact]
    public async Task Each_concept_shows_its_place_in_the_hierarchy_from_the_top_down_and_its_descendants()
    {
        var concepts = await SearchAsync("congestive");

        var chf = Assert.Single(concepts);
        // concept_ancestor: Cardiovascular finding (3 levels up) › Heart disease (2) › Heart failure (1).
        Assert.Equal([(Cardiovascular, 3), (HeartDisease, 2), (HeartFailure, 1)], chf.Ancestors.Select(a => (a.ConceptId, a.Levels)));
        Assert.Equal("Cardiovascular finding › Heart disease › Heart failure › Congestive heart failure", chf.HierarchyPath);
        Assert.Equal(0, chf.Descendants);
        var top = Assert.Single(await SearchAsync("cardiovascular"));
        Assert.Equal(3, top.Descendants);
        Assert.Empty(top.Ancestors);
    }

    [Fact]
    public async Task A_concept_id_or_code_finds_that_concept_and_a_domain_narrows_the_search()
    {
        Assert.Equal([HeartDisease], (await SearchAsync(HeartDisease.ToString(System.Globalization.CultureInfo.InvariantCulture))).Select(c => c.ConceptId));
        Assert.Equal([HeartFailureIcd10], (await SearchAsync("I50.9")).Select(c => c.ConceptId));
        Assert.Equal([CardiacTherapy], (await SearchAsync("heart failure", "Drug")).Select(c => c.ConceptId));
    }

    [Fact]
    public async Task Wildcards_and_sql_in_the_text_are_matched_literally()
    {
        Assert.Empty(await SearchAsync("%%"));
        Assert.Empty(await SearchAsync("heart_failure"));
        Assert.Empty(await SearchAsync("x' OR '1'='1"));
        Assert.Empty(await SearchAsync("'; DROP TABLE concept; --"));
        Assert.Equal([PercentConcept], (await SearchAsync("40 percent")).Select(c => c.ConceptId));
        Assert.NotEmpty(await SearchAsync("heart"));
    }

    [Fact]
    public async Task Another_tenant_without_a_grant_finds_no_source_and_an_administrator_may_not_search()
    {
        await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.Analyst));
        var northwind = await fixture.SendAsync(new SearchConcepts.Query(_source, "heart"));
        await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.TenantAdmin));
        var admin = await fixture.SendAsync(new SearchConcepts.Query(_source, "heart"));

        Assert.Equal("DataSource.NotFound", northwind.Error!.Code);
        Assert.Equal("Auth.Forbidden", admin.Error!.Code);
    }

    [Fact]
    public async Task One_letter_is_refused_before_the_warehouse_is_asked()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);

        var result = await fixture.SendAsync(new SearchConcepts.Query(_source, "h"));

        Assert.Equal("Validation.Failed", result.Error!.Code);
    }
}
