-- Registry of OMOP data sources: one row per cdm_<name> schema. Idempotent; run by the owner role at migration
-- (`rwe migrate`) and before a registration, never on an ordinary read.
-- The portal maps this table read-only (EF Core); the warehouse code owns its DDL and writes it.
-- custodian_tenant_id: the tenant that holds the source's consent (docs/consent.md "Custodians"); its foreign key
-- to app.tenants is added by db/gov/consent_registry.sql, once the tenants table exists.

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
    custodian_tenant_id uuid NULL,
    CONSTRAINT pk_data_sources PRIMARY KEY (id),
    CONSTRAINT uq_data_sources_name UNIQUE (name),
    CONSTRAINT uq_data_sources_schema_name UNIQUE (schema_name),
    CONSTRAINT ck_data_sources_name CHECK (name ~ '^[a-z0-9_]+$'),
    CONSTRAINT ck_data_sources_schema_name CHECK (schema_name ~ '^cdm_[a-z0-9_]+$')
);

ALTER TABLE app.data_sources ADD COLUMN IF NOT EXISTS custodian_tenant_id uuid NULL;

-- The read-only warehouse role reads every registered source's CDM tables (and nothing of app or gov.consent).
-- Registration grants the same for a new source (DataSourceRegistry.AddAsync).
DO $$
DECLARE
    s text;
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rwe_reader') THEN
        FOR s IN SELECT d.schema_name FROM app.data_sources d
                 WHERE EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = d.schema_name) LOOP
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO rwe_reader', s);
            EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO rwe_reader', s);
        END LOOP;
    END IF;
END $$;
