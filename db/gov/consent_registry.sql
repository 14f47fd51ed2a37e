-- The consent registry on top of gov.consent (db/extensions/consent.sql): configurable purposes, the one consent
-- filter every cohort query uses, the per-person status, a narrow person look-up for the portal, and grants.
-- Idempotent; run by the owner role after gov.consent and app.data_sources exist (docs/consent.md).

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

-- Serves the filter below: per (source, purpose) the records of each person newest first, with what the filter
-- reads in the index itself (index-only scan). docs/benchmarks.md "Consent filter" has the plans.
CREATE INDEX IF NOT EXISTS ix_consent_latest
    ON gov.consent (source, purpose, person_id, effective_from DESC, consent_id DESC)
    INCLUDE (status, effective_to);

-- Per person, the consent record for p_purpose that is in force on p_at in source p_source: the latest one with
-- effective_from <= p_at (among records of the same day, the last recorded). Persons without such a record are absent.
CREATE OR REPLACE FUNCTION gov.latest_consent(p_source text, p_purpose text, p_at date)
RETURNS TABLE (person_id bigint, status text, effective_from date, effective_to date)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT DISTINCT ON (c.person_id) c.person_id, c.status, c.effective_from, c.effective_to
    FROM gov.consent c
    WHERE c.source = p_source AND c.purpose = p_purpose AND c.effective_from <= p_at
    ORDER BY c.person_id, c.effective_from DESC, c.consent_id DESC
$$;

-- The people whose consent for p_purpose is in force on p_at in source p_source: their latest record (above) is a
-- grant, and the grant has not ended (effective_to is inclusive). A withdrawal effective on or before p_at therefore
-- wins over any earlier grant. Plain SQL and STABLE, so the planner inlines both functions into the cohort query.
-- Cohort SQL joins on person_id (docs/consent.md):
--   JOIN gov.consented_persons(@source, @purpose, @at) consented ON consented.person_id = p.person_id
CREATE OR REPLACE FUNCTION gov.consented_persons(p_source text, p_purpose text, p_at date)
RETURNS TABLE (person_id bigint)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT l.person_id
    FROM gov.latest_consent(p_source, p_purpose, p_at) l
    WHERE l.status = 'granted' AND (l.effective_to IS NULL OR l.effective_to >= p_at)
$$;

-- One person's standing on p_at for every configured purpose, by the same rule as gov.consented_persons:
-- status is 'granted', 'withdrawn', 'expired' (latest record a grant whose effective_to has passed) or 'none'.
CREATE OR REPLACE FUNCTION gov.consent_status(p_source text, p_person_id bigint, p_at date)
RETURNS TABLE (purpose text, status text, effective_from date, effective_to date, consented boolean)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT p.code,
           CASE WHEN latest.status IS NULL THEN 'none'
                WHEN latest.status = 'granted' AND latest.effective_to < p_at THEN 'expired'
                ELSE latest.status END,
           latest.effective_from,
           latest.effective_to,
           coalesce(latest.status = 'granted' AND (latest.effective_to IS NULL OR latest.effective_to >= p_at), false)
    FROM gov.consent_purpose p
    LEFT JOIN LATERAL (
        SELECT c.status, c.effective_from, c.effective_to
        FROM gov.consent c
        WHERE c.source = p_source AND c.purpose = p.code AND c.person_id = p_person_id AND c.effective_from <= p_at
        ORDER BY c.effective_from DESC, c.consent_id DESC
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

-- The portal (rwe_app) reads the registry and appends to it; nobody updates a consent record in place.
-- The warehouse role (rwe_reader) runs cohort SQL, which reads consent through gov.consented_persons.
GRANT USAGE ON SCHEMA gov TO rwe_app, rwe_reader;
GRANT SELECT ON gov.consent, gov.consent_purpose TO rwe_app, rwe_reader;
GRANT INSERT ON gov.consent TO rwe_app;
GRANT SELECT ON app.data_sources TO rwe_app;
REVOKE ALL ON FUNCTION gov.find_persons(text, bigint[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gov.find_persons(text, bigint[], text[]) TO rwe_app;
