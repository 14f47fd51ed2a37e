using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Vocabulary;
using RwePortal.Application.Privacy;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Application.Tests.Infrastructure;
using static RwePortal.Application.Tests.Features.Vocabulary.VocabularySource;

namespace RwePortal.Application.Tests.Features.Vocabulary;

/// <summary>The genes, variants and scores a source holds, for the builder's pickers: consent applied, every count protected.</summary>
[Collection(AppCollection.Name)]
public sealed class ListSourceGenesTests(AppFixture fixture) : IAsyncLifetime
{
    private string _source = "";

    public async Task InitializeAsync() => _source = await CreateAsync(fixture);

    public Task DisposeAsync() => Task.CompletedTask;

    private static void AssertShownNear(long exact, ProtectedCount shown)
    {
        Assert.NotNull(shown.Value);
        Assert.InRange(shown.Value!.Value, Math.Max(SmallCellPolicy.DefaultThreshold, exact - SmallCellPolicy.DefaultNoiseRange), exact + SmallCellPolicy.DefaultNoiseRange);
    }

    [Fact]
    public async Task Genes_and_variants_come_with_consenting_carriers_counted_once_per_person()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);
        var genes = (await fixture.SendAsync(new ListSourceGenes.Query(_source))).Unwrap();

        // Truth by hand: TTR carriers are persons 1–30 (1–5 carry two TTR variants), less person 3 who withdrew.
        var ttrCarriers = await fixture.OwnerSqlRowAsync<long>(
            $"SELECT count(DISTINCT person_id) FROM cdm_{_source}.variant_occurrence WHERE gene_symbol = 'TTR' AND person_id <> 3");
        Assert.Equal(29, ttrCarriers);
        Assert.Equal(["APOE", "TTR"], genes.Genes.Select(g => g.Symbol));
        var ttr = genes.Genes.Single(g => g.Symbol == "TTR");
        AssertShownNear(ttrCarriers, ttr.Carriers);
        var v142i = ttr.Variants.Single(v => v.Rsid == "rs76992529");
        Assert.Equal(("c.424G>A", "p.Val142Ile", "pathogenic"), (v142i.HgvsC, v142i.HgvsP, v142i.Significance));
        Assert.Equal(["heterozygous", "homozygous"], v142i.Zygosities);
        AssertShownNear(29, v142i.Carriers);
        Assert.Equal("c.424G>A p.Val142Ile rs76992529 (pathogenic)", v142i.Display);
        Assert.Equal([new ListSourceGenes.Score("PRS-HF-1", "Heart failure PRS")], genes.Scores);
    }

    [Fact]
    public async Task Carriers_from_1_to_10_are_shown_as_below_the_threshold()
    {
        await fixture.SignInAsAsync(AcmeAnalyst);
        var genes = (await fixture.SendAsync(new ListSourceGenes.Query(_source))).Unwrap();

        var apoe = genes.Genes.Single(g => g.Symbol == "APOE");
        var v50m = genes.Genes.Single(g => g.Symbol == "TTR").Variants.Single(v => v.Rsid == "rs28933979");
        Assert.Equal((null, "<11"), (apoe.Carriers.Value, apoe.Carriers.Display));
        Assert.Equal((null, "<11"), (v50m.Carriers.Value, v50m.Carriers.Display));
        Assert.All(genes.Genes.SelectMany(g => g.Variants.Select(v => v.Carriers).Append(g.Carriers)),
            c => Assert.True(c.Value is null or 0 or >= SmallCellPolicy.DefaultThreshold));
    }

    [Fact]
    public async Task Another_tenant_finds_no_source_an_ungranted_purpose_is_refused_and_the_query_is_audited()
    {
        await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.Analyst));
        var northwind = await fixture.SendAsync(new ListSourceGenes.Query(_source));
        await fixture.SignInAsAsync(AcmeAnalyst);
        var genomic = await fixture.SendAsync(new ListSourceGenes.Query(_source, DataPurposes.GenomicResearch));
        (await fixture.SendAsync(new ListSourceGenes.Query(_source))).Unwrap();

        Assert.Equal("DataSource.NotFound", northwind.Error!.Code);
        Assert.Equal("Vocabulary.PurposeNotGranted", genomic.Error!.Code);
        var details = await fixture.OwnerSqlRowAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE event_type = 'WarehouseQuery' AND details -> 'parameters' ->> 'source' = @source ORDER BY id DESC LIMIT 1",
            new { source = _source });
        Assert.Matches("\"sql_sha256\": \"[0-9a-f]{64}\"", details);
        Assert.Contains("\"purpose\": \"research\"", details, StringComparison.Ordinal);
    }
}
