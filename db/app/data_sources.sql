-- Registry of OMOP data sources: one row per cdm_<name> schema. Idempotent; run by the owner role.
-- The portal maps this table read-only (EF Core); the warehouse code owns its DDL and writes it.

CREATE SCHEMA IF NOT EXISTS app;

CREATE TABLE IF NOT EXISTS app.data_sources (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    cdm_version text NOT NULL,
    schema_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    loaded_at timestamptz NULL,
    row_counts jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT pk_data_sources PRIMARY KEY (id),
    CONSTRAINT uq_data_sources_name UNIQUE (name),
    CONSTRAINT uq_data_sources_schema_name UNIQUE (schema_name),
    CONSTRAINT ck_data_sources_name CHECK (name ~ '^[a-z0-9_]+$'),
    CONSTRAINT ck_data_sources_schema_name CHECK (schema_name ~ '^cdm_[a-z0-9_]+$')
);
