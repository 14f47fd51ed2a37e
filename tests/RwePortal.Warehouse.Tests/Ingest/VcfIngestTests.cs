using Dapper;
using RwePortal.Warehouse.Ingest;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Warehouse.Tests.Ingest;

/// <summary>rwe ingest-vcf: a good multi-sample file loads with zygosity and annotations; a bad one is rejected whole.</summary>
public sealed class VcfIngestTests(IngestFixture fixture) : IClassFixture<IngestFixture>
{
    private sealed record Variant(long PersonId, string? GeneSymbol, string? HgvsC, string? HgvsP, string? Rsid, string Chromosome, long Position,
        string ReferenceAllele, string AlternateAllele, string Zygosity, string? ClinicalSignificance, DateOnly SampleDate);

    [Fact]
    public async Task A_multi_sample_vcf_loads_one_row_per_carried_allele_with_zygosity_and_annotations()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var result = await VcfIngester.IngestAsync(connection, IngestFixture.Source, IngestFixture.DataFile("vcf/two-samples.vcf"), null, CancellationToken.None);

        var rows = (await connection.QueryAsync<Variant>(
            """
            SELECT person_id AS PersonId, gene_symbol AS GeneSymbol, hgvs_c AS HgvsC, hgvs_p AS HgvsP, rsid AS Rsid, chromosome AS Chromosome,
                   position AS Position, reference_allele AS ReferenceAllele, alternate_allele AS AlternateAllele, zygosity AS Zygosity,
                   clinical_significance AS ClinicalSignificance, sample_date AS SampleDate
            FROM cdm_ing.variant_occurrence WHERE variant_source_value LIKE 'vcf:two-samples.vcf:%'
            """)).ToList();
        var person1 = await PersonAsync(connection, "SYN0000001");
        var person2 = await PersonAsync(connection, "SYN0000002");

        Assert.Equal(2, result.Samples);
        Assert.Equal(5, result.Sites);
        Assert.Equal(7, result.Variants);
        Assert.Equal(7, rows.Count);
        Assert.All(rows, r => Assert.Equal(new DateOnly(2025, 3, 14), r.SampleDate));

        var ttr = Assert.Single(rows, r => r.GeneSymbol == "TTR");
        Assert.Equal((person1, "heterozygous", "pathogenic", "rs76992529", "18", 31598655L, "p.Val142Ile"), (ttr.PersonId, ttr.Zygosity, ttr.ClinicalSignificance, ttr.Rsid, ttr.Chromosome, ttr.Position, ttr.HgvsP));
        var apoe = Assert.Single(rows, r => r.GeneSymbol == "APOE");
        Assert.Equal((person2, "homozygous", (string?)null), (apoe.PersonId, apoe.Zygosity, apoe.ClinicalSignificance));
        var hfe = Assert.Single(rows, r => r.GeneSymbol == "HFE");
        Assert.Equal((person1, "heterozygous", "c.845G>A", "p.Cys282Tyr"), (hfe.PersonId, hfe.Zygosity, hfe.HgvsC, hfe.HgvsP));
        var mthfr = rows.Where(r => r.GeneSymbol == "MTHFR").ToList();
        Assert.Equal(3, mthfr.Count);
        Assert.Equal(["A", "T"], mthfr.Where(r => r.PersonId == person1).Select(r => r.AlternateAllele).Order().ToArray());
        Assert.All(mthfr, r => Assert.Equal("heterozygous", r.Zygosity));
        var gla = Assert.Single(rows, r => r.GeneSymbol == "GLA");
        Assert.Equal((person1, "hemizygous", "likely_pathogenic", (string?)null, "X"), (gla.PersonId, gla.Zygosity, gla.ClinicalSignificance, gla.Rsid, gla.Chromosome));
    }

    [Fact]
    public async Task A_vcf_with_bad_rows_is_rejected_with_every_problem_and_line_number_and_nothing_is_written()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var before = await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM cdm_ing.variant_occurrence");

        var error = await Assert.ThrowsAsync<IngestValidationException>(() =>
            VcfIngester.IngestAsync(connection, IngestFixture.Source, IngestFixture.DataFile("vcf/bad-rows.vcf"), null, CancellationToken.None));

        Assert.Equal([13, 15, 16, 17, 18, 19], error.Problems.Select(p => p.Line).Order().ToArray());
        Assert.Contains(error.Problems, p => p.Line == 13 && p.Message.Contains("NOBODY", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Line == 15 && p.Message.Contains("POS 'abc'", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.Line == 17 && p.Message.Contains("GT '0/3'", StringComparison.Ordinal));
        Assert.Contains("nothing was written", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM cdm_ing.variant_occurrence"));
    }

    [Fact]
    public async Task A_file_that_is_not_a_vcf_or_an_unknown_source_is_refused()
    {
        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var notVcf = await Assert.ThrowsAsync<IngestValidationException>(() =>
            VcfIngester.IngestAsync(connection, IngestFixture.Source, IngestFixture.DataFile("wearable/dailyActivity.csv"), null, CancellationToken.None));
        Assert.Equal(1, Assert.Single(notVcf.Problems).Line);

        await Assert.ThrowsAsync<WarehouseException>(() =>
            VcfIngester.IngestAsync(connection, "no_such_source", IngestFixture.DataFile("vcf/two-samples.vcf"), null, CancellationToken.None));
    }

    [Theory]
    [InlineData("Pathogenic", "pathogenic")]
    [InlineData("Likely_pathogenic", "likely_pathogenic")]
    [InlineData("Pathogenic/Likely_pathogenic", "likely_pathogenic")]
    [InlineData("Uncertain_significance", "uncertain")]
    [InlineData("Conflicting_interpretations_of_pathogenicity", "uncertain")]
    [InlineData("Benign/Likely_benign", "likely_benign")]
    [InlineData("Benign", "benign")]
    [InlineData("drug_response", null)]
    public void ClinVar_significance_maps_to_the_five_warehouse_classes(string clnsig, string? expected)
    {
        Assert.True(VcfReader.TryMapSignificance(clnsig, out var significance));
        Assert.Equal(expected, significance);
    }

    private static Task<long> PersonAsync(Npgsql.NpgsqlConnection connection, string sourceValue) =>
        connection.ExecuteScalarAsync<long>("SELECT person_id FROM cdm_ing.person WHERE person_source_value = @sourceValue", new { sourceValue });
}
