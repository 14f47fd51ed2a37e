-- The consent registry on top of gov.consent (db/extensions/consent.sql): configurable purposes, a consent model per
-- source and purpose, the one consent filter every cohort query uses, the per-person status, a narrow person
-- look-up for the portal, custodian row-level security, and grants. Idempotent; run by the owner role (the role
-- that runs `rwe migrate`) after gov.consent, app.data_sources, app.tenants and db/app/rls.sql exist
-- (docs/consent.md).

CREATE TABLE IF NOT EXISTS gov.consent_purpose (
    code text NOT NULL,
    label text NOT NULL,
    description text NOT NULL DEFAULT '',
    active boolean NOT NULL DEFAULT true,
    sort_order integer NOT NULL DEFAULT 0,
    CONSTRAINT pk_consent_purpose PRIMARY KEY (code),
    CONSTRAINT ck_consent_purpose_code CHECK (code ~ '^[a-z][a-z0-9_]*$')
);

-- The purposes gov.consent accepts (its check constraint). Labels and descriptions are edited here or in the table;
-- an existing row is never overwritten, so local wording and deactivations survive a re-run.
INSERT INTO gov.consent_purpose (code, label, description, sort_order) VALUES
    ('research', 'Research', 'Use of the person''s records in approved observational research.', 10),
    ('genomic_research', 'Genomic research', 'Use of sequencing and genotype data in approved research.', 20),
    ('wearable_research', 'Wearable research', 'Use of wearable device data (steps, heart rate, sleep) in approved research.', 30),
    ('commercial_research', 'Commercial research', 'Use in research sponsored by or shared with commercial partners.', 40),
    ('recontact', 'Recontact', 'Being contacted again about new studies or findings.', 50)
ON CONFLICT (code) DO NOTHING;

-- The custodian of a source is a tenant (app.data_sources.custodian_tenant_id, db/app/data_sources.sql).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conname = 'fk_data_sources_custodian_tenant') THEN
        ALTER TABLE app.data_sources ADD CONSTRAINT fk_data_sources_custodian_tenant
            FOREIGN KEY (custodian_tenant_id) REFERENCES app.tenants (id) ON DELETE RESTRICT;
    END IF;
END $$;

-- ------------------------------------------------------------------------------------------------ consent models
-- How a source's people are counted for a purpose, set by the source's custodian: opt_in (only people whose
-- current record is a grant), opt_out (everyone in the source unless their current record is a withdrawal) or
-- waiver (no per-person consent is needed, under the reference of the waiver, e.g. an IRB number; a recorded
-- withdrawal is still honoured). Append-only: the latest row of a source and purpose is in force; no row = opt_in.
CREATE TABLE IF NOT EXISTS gov.consent_model (
    model_id bigint GENERATED ALWAYS AS IDENTITY,
    source text NOT NULL,
    purpose text NOT NULL,
    model text NOT NULL,
    reference text NULL,
    set_at timestamptz NOT NULL DEFAULT now(),
    set_by text NOT NULL,
    CONSTRAINT pk_consent_model PRIMARY KEY (model_id),
    CONSTRAINT fk_consent_model_purpose FOREIGN KEY (purpose) REFERENCES gov.consent_purpose (code),
    CONSTRAINT ck_consent_model_model CHECK (model IN ('opt_in', 'opt_out', 'waiver')),
    CONSTRAINT ck_consent_model_waiver_reference CHECK (model <> 'waiver' OR length(btrim(coalesce(reference, ''))) > 0)
);

CREATE INDEX IF NOT EXISTS ix_consent_model_current ON gov.consent_model (source, purpose, model_id DESC);

-- The model in force for a source and purpose (opt_in with no reference when none was ever set).
CREATE OR REPLACE FUNCTION gov.current_model(p_source text, p_purpose text)
RETURNS TABLE (model text, reference text, set_at timestamptz, set_by text)
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(m.model, 'opt_in'), m.reference, m.set_at, m.set_by
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (
        SELECT cm.model, cm.reference, cm.set_at, cm.set_by
        FROM gov.consent_model cm
        WHERE cm.source = p_source AND cm.purpose = p_purpose
        ORDER BY cm.model_id DESC
        LIMIT 1
    ) m ON true
$$;

-- ------------------------------------------------------------------------------------------------ semantics
-- Serves the filter: per (source, purpose) each person's records, latest recorded first, with what the filter reads
-- in the index itself. docs/benchmarks.md "Consent filter" has the plans.
DROP INDEX IF EXISTS gov.ix_consent_latest;
CREATE INDEX IF NOT EXISTS ix_consent_current
    ON gov.consent (source, purpose, person_id, recorded_at DESC, consent_id DESC)
    INCLUDE (status, effective_from, effective_to);

-- Dated variants are gone: no caller chooses the day consent is judged on (docs/consent.md "Semantics").
DROP FUNCTION IF EXISTS gov.consented_persons(text, text, date);
DROP FUNCTION IF EXISTS gov.latest_consent(text, text, date);
DROP FUNCTION IF EXISTS gov.consent_status(text, bigint, date);

-- Per person, the decision in force today for p_purpose in p_source: among the records whose effective_from has
-- come (<= current_date), the latest recorded (recorded_at, then consent_id). consented: it is a grant that has not
-- ended (effective_to is inclusive). Runs with the caller's rights: the portal's role sees only the rows of sources
-- its tenant is custodian of; the filter below calls it as the owner.
CREATE OR REPLACE FUNCTION gov.current_consent(p_source text, p_purpose text)
RETURNS TABLE (person_id bigint, status text, effective_from date, effective_to date, consented boolean)
LANGUAGE sql STABLE
AS $$
    SELECT DISTINCT ON (c.person_id) c.person_id, c.status, c.effective_from, c.effective_to,
           c.status = 'granted' AND (c.effective_to IS NULL OR c.effective_to >= current_date)
    FROM gov.consent c
    WHERE c.source = p_source AND c.purpose = p_purpose AND c.effective_from <= current_date
    ORDER BY c.person_id, c.recorded_at DESC, c.consent_id DESC
$$;

-- THE CONSENT FILTER: the people of p_source who may be used for p_purpose today, under the source's model for that
-- purpose. It takes no date: always the server's current_date. The only way the warehouse role sees consent.
-- Cohort SQL joins on person_id (docs/consent.md):
--   JOIN gov.consented_persons(@source, @purpose) consented ON consented.person_id = p.person_id
CREATE OR REPLACE FUNCTION gov.consented_persons(p_source text, p_purpose text)
RETURNS TABLE (person_id bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_model text;
    v_schema text;
BEGIN
    SELECT m.model INTO v_model FROM gov.current_model(p_source, p_purpose) m;
    IF v_model = 'opt_in' THEN
        RETURN QUERY SELECT c.person_id FROM gov.current_consent(p_source, p_purpose) c WHERE c.consented;
        RETURN;
    END IF;

    -- opt_out and waiver: everyone in the source's person table, less those whose decision in force is a withdrawal.
    SELECT d.schema_name INTO v_schema FROM app.data_sources d WHERE d.name = p_source;
    IF v_schema IS NULL OR to_regclass(format('%I.person', v_schema)) IS NULL THEN
        RETURN;
    END IF;

    RETURN QUERY EXECUTE format(
        'SELECT p.person_id::bigint FROM %I.person p
         WHERE NOT EXISTS (SELECT 1 FROM gov.current_consent($1, $2) c
                           WHERE c.person_id = p.person_id AND c.status = ''withdrawn'')',
        v_schema)
    USING p_source, p_purpose;
END;
$$;

-- People in a registered source's person table (0 when it has none yet). Owner only: a helper of the counts below.
CREATE OR REPLACE FUNCTION gov.source_person_count(p_source text)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_schema text;
    v_count bigint;
BEGIN
    SELECT d.schema_name INTO v_schema FROM app.data_sources d WHERE d.name = p_source;
    IF v_schema IS NULL OR to_regclass(format('%I.person', v_schema)) IS NULL THEN
        RETURN 0;
    END IF;

    EXECUTE format('SELECT count(*) FROM %I.person', v_schema) INTO v_count;
    RETURN v_count;
END;
$$;

-- How many people of p_source consent removes for p_purpose today (persons in the source − consented), for counts
-- and results to report.
CREATE OR REPLACE FUNCTION gov.consent_excluded_count(p_source text, p_purpose text)
RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT greatest(gov.source_person_count(p_source) - (SELECT count(*) FROM gov.consented_persons(p_source, p_purpose)), 0)
$$;

-- Per purpose, the model in force and today's counts of a source: persons, consented, withdrawn (current decision a
-- withdrawal), excluded. Aggregates only; the portal shows them through its small-cell policy, to the custodian
-- and to tenants granted the source alike.
CREATE OR REPLACE FUNCTION gov.consent_counts(p_source text)
RETURNS TABLE (purpose text, label text, active boolean, model text, reference text, set_at timestamptz, set_by text,
               persons bigint, consented bigint, withdrawn bigint, excluded bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH total AS (SELECT gov.source_person_count(p_source) AS persons)
    SELECT p.code, p.label, p.active, m.model, m.reference, m.set_at, m.set_by,
           total.persons, counts.consented, counts.withdrawn, greatest(total.persons - counts.consented, 0)
    FROM gov.consent_purpose p
    CROSS JOIN total
    CROSS JOIN LATERAL gov.current_model(p_source, p.code) m
    CROSS JOIN LATERAL (
        SELECT (SELECT count(*) FROM gov.consented_persons(p_source, p.code)) AS consented,
               (SELECT count(*) FROM gov.current_consent(p_source, p.code) c WHERE c.status = 'withdrawn') AS withdrawn
    ) counts
    ORDER BY p.sort_order, p.code
$$;

-- One person's standing today for every configured purpose, by the same rule as the filter: status 'granted',
-- 'withdrawn', 'expired' (latest record a grant whose effective_to has passed) or 'none'; consented under the model
-- in force. Runs with the caller's rights, so the portal's role answers only for sources its tenant holds.
CREATE OR REPLACE FUNCTION gov.consent_status(p_source text, p_person_id bigint)
RETURNS TABLE (purpose text, status text, effective_from date, effective_to date, model text, consented boolean)
LANGUAGE sql STABLE
AS $$
    SELECT p.code,
           CASE WHEN latest.status IS NULL THEN 'none'
                WHEN latest.status = 'granted' AND latest.effective_to < current_date THEN 'expired'
                ELSE latest.status END,
           latest.effective_from,
           latest.effective_to,
           m.model,
           CASE WHEN m.model = 'opt_in'
                THEN coalesce(latest.status = 'granted' AND (latest.effective_to IS NULL OR latest.effective_to >= current_date), false)
                ELSE coalesce(latest.status, '') <> 'withdrawn' END
    FROM gov.consent_purpose p
    CROSS JOIN LATERAL gov.current_model(p_source, p.code) m
    LEFT JOIN LATERAL (
        SELECT c.status, c.effective_from, c.effective_to
        FROM gov.consent c
        WHERE c.source = p_source AND c.purpose = p.code AND c.person_id = p_person_id AND c.effective_from <= current_date
        ORDER BY c.recorded_at DESC, c.consent_id DESC
        LIMIT 1
    ) latest ON true
    ORDER BY p.sort_order, p.code
$$;

-- Which of the given persons exist in a registered source, by person_id or by person_source_value. The portal's
-- role has no access to the cdm_<source> schemas; this definer function answers exactly this question for it.
-- The schema name comes from app.data_sources (checked there against ^cdm_[a-z0-9_]+$) and is quoted with %I.
CREATE OR REPLACE FUNCTION gov.find_persons(p_source text, p_person_ids bigint[], p_source_values text[])
RETURNS TABLE (person_id bigint, person_source_value text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_schema text;
BEGIN
    SELECT d.schema_name INTO v_schema FROM app.data_sources d WHERE d.name = p_source;
    IF v_schema IS NULL OR to_regclass(format('%I.person', v_schema)) IS NULL THEN
        RETURN;
    END IF;

    RETURN QUERY EXECUTE format(
        'SELECT p.person_id::bigint, p.person_source_value::text FROM %I.person p
         WHERE p.person_id = ANY($1) OR p.person_source_value = ANY($2)',
        v_schema)
    USING coalesce(p_person_ids, '{}'::bigint[]), coalesce(p_source_values, '{}'::text[]);
END;
$$;

-- Gives a source with no custodian yet its custodian (the platform Admin's first assignment from the portal).
-- Changing an existing custodian moves who may read and write the source's consent history: that is the
-- operator's act (`rwe source set-custodian`, owner role), never the portal's (decision 0641). Returns false
-- when the source is unknown or already has a custodian.
CREATE OR REPLACE FUNCTION app.assign_data_source_custodian(p_source text, p_tenant_id uuid)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_updated integer;
BEGIN
    IF NOT EXISTS (SELECT FROM app.tenants t WHERE t.id = p_tenant_id AND t.is_active) THEN
        RETURN false;
    END IF;

    UPDATE app.data_sources SET custodian_tenant_id = p_tenant_id
    WHERE name = p_source AND custodian_tenant_id IS NULL;
    GET DIAGNOSTICS v_updated = ROW_COUNT;
    RETURN v_updated = 1;
END;
$$;

-- ------------------------------------------------------------------------------------------------ row-level security
-- Consent records and models belong to the source's custodian. The portal's role (rwe_app) reads and appends
-- consent records only for sources whose custodian is the tenant set on its session (app.current_tenant_id(),
-- db/app/rls.sql); it reads every model (a model is no personal data: granted tenants see it beside their counts)
-- but sets one only as the custodian. The owner role (loads, the command line, the definer functions above)
-- keeps an explicit policy that lets it see and write every row. FORCE holds the owner to these policies too.
CREATE OR REPLACE FUNCTION gov.is_custodian(p_source text)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (
        SELECT 1 FROM app.data_sources d
        WHERE d.name = p_source AND d.custodian_tenant_id IS NOT NULL AND d.custodian_tenant_id = app.current_tenant_id())
$$;

ALTER TABLE gov.consent ENABLE ROW LEVEL SECURITY;
ALTER TABLE gov.consent FORCE ROW LEVEL SECURITY;
ALTER TABLE gov.consent_model ENABLE ROW LEVEL SECURITY;
ALTER TABLE gov.consent_model FORCE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS consent_owner ON gov.consent;
DROP POLICY IF EXISTS consent_custodian ON gov.consent;
DROP POLICY IF EXISTS consent_model_owner ON gov.consent_model;
DROP POLICY IF EXISTS consent_model_read ON gov.consent_model;
DROP POLICY IF EXISTS consent_model_custodian ON gov.consent_model;

DO $$
BEGIN
    EXECUTE format('CREATE POLICY consent_owner ON gov.consent TO %I USING (true) WITH CHECK (true)', current_user);
    EXECUTE format('CREATE POLICY consent_model_owner ON gov.consent_model TO %I USING (true) WITH CHECK (true)', current_user);
END $$;

CREATE POLICY consent_custodian ON gov.consent TO rwe_app
    USING (gov.is_custodian(source))
    WITH CHECK (gov.is_custodian(source));
CREATE POLICY consent_model_read ON gov.consent_model FOR SELECT TO rwe_app USING (true);
CREATE POLICY consent_model_custodian ON gov.consent_model FOR INSERT TO rwe_app
    WITH CHECK (gov.is_custodian(source));

-- ------------------------------------------------------------------------------------------------ grants
-- The portal (rwe_app) reads and appends consent of the sources its tenant holds; nobody updates a record in place.
-- It reads the registry of sources but never writes it (the custodian changes only through the function above).
-- The warehouse role (rwe_reader) runs cohort SQL: it sees consent only through the filter and the counts.
GRANT USAGE ON SCHEMA gov TO rwe_app, rwe_reader;
REVOKE ALL ON gov.consent, gov.consent_model FROM rwe_reader;
GRANT SELECT ON gov.consent_purpose TO rwe_app, rwe_reader;
GRANT SELECT, INSERT ON gov.consent, gov.consent_model TO rwe_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON app.data_sources FROM rwe_app;
GRANT SELECT ON app.data_sources TO rwe_app;

REVOKE ALL ON FUNCTION gov.consented_persons(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gov.consent_excluded_count(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gov.consent_counts(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gov.source_person_count(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gov.find_persons(text, bigint[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.assign_data_source_custodian(text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gov.consented_persons(text, text) TO rwe_app, rwe_reader;
GRANT EXECUTE ON FUNCTION gov.consent_excluded_count(text, text) TO rwe_app, rwe_reader;
GRANT EXECUTE ON FUNCTION gov.consent_counts(text) TO rwe_app, rwe_reader;
GRANT EXECUTE ON FUNCTION gov.find_persons(text, bigint[], text[]) TO rwe_app;
GRANT EXECUTE ON FUNCTION app.assign_data_source_custodian(text, uuid) TO rwe_app;
