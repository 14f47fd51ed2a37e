using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Application.Tests.Infrastructure;
using RwePortal.Warehouse.Sources;

namespace RwePortal.Application.Tests.Features.Vocabulary;

/// <summary>
/// A small source granted to Acme for research, arranged as the owner: a four-level heart-failure hierarchy with a
/// source (ICD-10) and a classification concept beside it, and variants of 40 persons. Persons 1–30 carry TTR
/// c.424G>A (pathogenic, heterozygous; 29 and 30 homozygous), persons 1–5 also TTR c.148G>A (uncertain), persons 31–34
/// APOE rs429358; person 3 withdrew from research (research is under a waiver); a polygenic score for persons 1–20.
/// </summary>
internal static class VocabularySource
{
    public const int Cardiovascular = 1000;
    public const int HeartDisease = 1001;
    public const int HeartFailure = 1002;
    public const int CongestiveHeartFailure = 1003;
    public const int HeartFailureIcd10 = 1004;
    public const int CardiacTherapy = 1005;
    public const int PercentConcept = 1006;

    public static readonly string AcmeAnalyst = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.Analyst);

    public static async Task<string> CreateAsync(AppFixture fixture)
    {
        var name = $"voc_{Guid.NewGuid():N}"[..16];
        var acme = await fixture.TenantIdAsync("acme");
        await using var dataSource = NpgsqlDataSource.Create(fixture.Database.OwnerConnectionString);
        var registered = await new DataSourceRegistry(dataSource).AddAsync(name, "vocabulary slice test source", CancellationToken.None);
        await fixture.OwnerSqlAsync($"""
            INSERT INTO cdm_{name}.concept (concept_id, concept_name, domain_id, vocabulary_id, concept_class_id, standard_concept, concept_code, valid_start_date, valid_end_date, invalid_reason) VALUES
              ({Cardiovascular}, 'Cardiovascular finding', 'Condition', 'SNOMED', 'Clinical Finding', 'S', '106063007', '1970-01-01', '2099-12-31', NULL),
              ({HeartDisease}, 'Heart disease', 'Condition', 'SNOMED', 'Clinical Finding', 'S', '56265001', '1970-01-01', '2099-12-31', NULL),
              ({HeartFailure}, 'Heart failure', 'Condition', 'SNOMED', 'Clinical Finding', 'S', '84114007', '1970-01-01', '2099-12-31', NULL),
              ({CongestiveHeartFailure}, 'Congestive heart failure', 'Condition', 'SNOMED', 'Clinical Finding', 'S', '42343007', '1970-01-01', '2099-12-31', NULL),
              ({HeartFailureIcd10}, 'Heart failure, unspecified', 'Condition', 'ICD10CM', '4-char billing code', NULL, 'I50.9', '1970-01-01', '2099-12-31', NULL),
              ({CardiacTherapy}, 'Cardiac therapy for heart failure', 'Drug', 'ATC', 'ATC 2nd', 'C', 'C01', '1970-01-01', '2099-12-31', NULL),
              ({PercentConcept}, 'Ejection fraction 40 percent', 'Measurement', 'LOINC', 'Clinical Observation', 'S', '10230-1', '1970-01-01', '2099-12-31', NULL);
            INSERT INTO cdm_{name}.concept_ancestor (ancestor_concept_id, descendant_concept_id, min_levels_of_separation, max_levels_of_separation)
            SELECT a, d, l, l FROM (VALUES
              ({Cardiovascular}, {Cardiovascular}, 0), ({HeartDisease}, {HeartDisease}, 0), ({HeartFailure}, {HeartFailure}, 0),
              ({CongestiveHeartFailure}, {CongestiveHeartFailure}, 0),
              ({Cardiovascular}, {HeartDisease}, 1), ({Cardiovascular}, {HeartFailure}, 2), ({Cardiovascular}, {CongestiveHeartFailure}, 3),
              ({HeartDisease}, {HeartFailure}, 1), ({HeartDisease}, {CongestiveHeartFailure}, 2),
              ({HeartFailure}, {CongestiveHeartFailure}, 1)) v(a, d, l);
            INSERT INTO cdm_{name}.person (person_id, gender_concept_id, year_of_birth, race_concept_id, ethnicity_concept_id)
            SELECT g, 8507, 1960, 0, 0 FROM generate_series(1, 40) g;
            INSERT INTO cdm_{name}.variant_occurrence (variant_occurrence_id, person_id, gene_symbol, hgvs_c, hgvs_p, rsid, zygosity, clinical_significance)
            SELECT g, g, 'TTR', 'c.424G>A', 'p.Val142Ile', 'rs76992529', CASE WHEN g >= 29 THEN 'homozygous' ELSE 'heterozygous' END, 'pathogenic'
            FROM generate_series(1, 30) g;
            INSERT INTO cdm_{name}.variant_occurrence (variant_occurrence_id, person_id, gene_symbol, hgvs_c, hgvs_p, rsid, zygosity, clinical_significance)
            SELECT 100 + g, g, 'TTR', 'c.148G>A', 'p.Val50Met', 'rs28933979', 'heterozygous', 'uncertain' FROM generate_series(1, 5) g;
            INSERT INTO cdm_{name}.variant_occurrence (variant_occurrence_id, person_id, gene_symbol, hgvs_c, hgvs_p, rsid, zygosity, clinical_significance)
            SELECT 200 + g, g, 'APOE', 'c.388T>C', 'p.Cys130Arg', 'rs429358', 'heterozygous', 'uncertain' FROM generate_series(31, 34) g;
            INSERT INTO cdm_{name}.genomic_score (genomic_score_id, person_id, score_id, score_name, value, percentile)
            SELECT g, g, 'PRS-HF-1', 'Heart failure PRS', g / 10.0, g * 4 FROM generate_series(1, 20) g;
            INSERT INTO gov.consent_model (source, purpose, model, reference, set_by) VALUES ('{name}', 'research', 'waiver', 'IRB-TEST-1', 'test');
            INSERT INTO gov.consent (source, person_id, purpose, status, effective_from, recorded_by)
            VALUES ('{name}', 3, 'research', 'withdrawn', current_date - 1, 'test');
            """);
        await using var db = await fixture.CreateDbContextAsync(acme);
        db.DataSourceGrants.Add(new TenantDataSourceGrant { TenantId = acme, DataSourceId = registered.Id, Purposes = [DataPurposes.Research] });
        await db.SaveChangesAsync();
        return name;
    }
}
