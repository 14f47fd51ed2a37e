-- Secondary indexes of the extension tables ({{schema}} is replaced by cdm_<source>); built after loads.
-- wearable_daily and wearable_hourly need none: their primary keys lead with (person_id, date/hour).

CREATE INDEX IF NOT EXISTS ix_variant_occurrence_gene_person_date ON {{schema}}.variant_occurrence (gene_symbol, person_id, sample_date);
CREATE INDEX IF NOT EXISTS ix_variant_occurrence_person_date ON {{schema}}.variant_occurrence (person_id, sample_date);
CREATE INDEX IF NOT EXISTS ix_variant_occurrence_rsid ON {{schema}}.variant_occurrence (rsid);

CREATE INDEX IF NOT EXISTS ix_genomic_score_score_person_date ON {{schema}}.genomic_score (score_id, person_id, measured_date);
CREATE INDEX IF NOT EXISTS ix_genomic_score_person_date ON {{schema}}.genomic_score (person_id, measured_date);
