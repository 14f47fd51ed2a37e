-- Genomic extension tables of one CDM schema ({{schema}} is replaced by cdm_<source>), modelled on the
-- OHDSI genomic CDM proposals. Person-level: person_id bigint like every CDM person_id, so that all
-- person-level tables can be co-located on person_id (docs/warehouse-distribution.md).

CREATE TABLE IF NOT EXISTS {{schema}}.variant_occurrence (
    variant_occurrence_id bigint NOT NULL,
    person_id bigint NOT NULL,
    specimen_id integer NULL,
    sample_date date NULL,
    gene_symbol text NULL,
    hgvs_c text NULL,
    hgvs_p text NULL,
    rsid text NULL,
    chromosome text NULL,
    position bigint NULL,
    reference_allele text NULL,
    alternate_allele text NULL,
    zygosity text NULL
        CONSTRAINT ck_variant_occurrence_zygosity CHECK (zygosity IN ('heterozygous', 'homozygous', 'hemizygous')),
    clinical_significance text NULL
        CONSTRAINT ck_variant_occurrence_significance
        CHECK (clinical_significance IN ('pathogenic', 'likely_pathogenic', 'uncertain', 'likely_benign', 'benign')),
    variant_source_value text NULL,
    CONSTRAINT xpk_variant_occurrence PRIMARY KEY (variant_occurrence_id)
);

CREATE TABLE IF NOT EXISTS {{schema}}.genomic_score (
    genomic_score_id bigint NOT NULL,
    person_id bigint NOT NULL,
    score_id text NOT NULL,
    score_name text NULL,
    value double precision NOT NULL,
    percentile double precision NULL
        CONSTRAINT ck_genomic_score_percentile CHECK (percentile >= 0 AND percentile <= 100),
    measured_date date NULL,
    CONSTRAINT xpk_genomic_score PRIMARY KEY (genomic_score_id)
);
