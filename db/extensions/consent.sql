-- Consent registry: one schema `gov` shared by all data sources. Rows are appended, never updated in
-- place: a withdrawal is a new row with status 'withdrawn'. The consent function/view that cohort SQL
-- uses is defined by the governance code on top of this table.

CREATE SCHEMA IF NOT EXISTS gov;

CREATE TABLE IF NOT EXISTS gov.consent (
    consent_id bigint GENERATED ALWAYS AS IDENTITY,
    source text NOT NULL,
    person_id bigint NOT NULL,
    purpose text NOT NULL
        CONSTRAINT ck_consent_purpose
        CHECK (purpose IN ('research', 'genomic_research', 'wearable_research', 'commercial_research', 'recontact')),
    status text NOT NULL
        CONSTRAINT ck_consent_status CHECK (status IN ('granted', 'withdrawn')),
    effective_from date NOT NULL,
    effective_to date NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by text NOT NULL,
    reason text NULL,
    CONSTRAINT pk_consent PRIMARY KEY (consent_id),
    CONSTRAINT ck_consent_effective_range CHECK (effective_to IS NULL OR effective_to >= effective_from)
);

CREATE INDEX IF NOT EXISTS ix_consent_source_purpose_person_from
    ON gov.consent (source, purpose, person_id, effective_from);
