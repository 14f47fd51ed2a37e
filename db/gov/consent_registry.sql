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

-- ------------------------------------------------------------------------------------------------ consent bitmap
-- The consent filter's fast form (decision 0740, docs/consent.md "Consent bitmap"). gov.consented_persons computes
-- the consented set from the history on every call (0.3–1.7 s at 1,000,000 persons); subgroup counts instead read a
-- bitmap per source and purpose, kept current on every consent change and every model change:
--   gov.consent_bitmap        one row per 64 person ids (word = person_id >> 6, bit person_id & 63 in bits).
--                             Under opt_in a set bit is a person who consents; under opt_out and waiver a set bit
--                             is a person whose decision in force is a withdrawal (everyone else in the person table
--                             consents). So the bitmap depends only on gov.consent, gov.consent_model and the day.
--   gov.consent_bitmap_state  per source and purpose: the model's mode, the day the bits were judged on (as_of) and
--                             the first later day on which some record of the pair starts or ends (valid_until).
-- The filter gov.consent_bitmap(source, purpose) returns the bits while the state is valid today, and otherwise the
-- same bits computed from the history on the spot (exact, only slower): a stale or missing bitmap is never read.
-- Like the function above it is SECURITY DEFINER; nobody else reads the tables.
CREATE TABLE IF NOT EXISTS gov.consent_bitmap (
    source text NOT NULL,
    purpose text NOT NULL,
    word bigint NOT NULL,
    bits bigint NOT NULL,
    CONSTRAINT pk_consent_bitmap PRIMARY KEY (source, purpose, word)
);

CREATE TABLE IF NOT EXISTS gov.consent_bitmap_state (
    source text NOT NULL,
    purpose text NOT NULL,
    exclude boolean NOT NULL,
    as_of date NOT NULL,
    valid_until date NULL,
    built_at timestamptz NOT NULL,
    CONSTRAINT pk_consent_bitmap_state PRIMARY KEY (source, purpose)
);

REVOKE ALL ON gov.consent_bitmap, gov.consent_bitmap_state FROM PUBLIC, rwe_app, rwe_reader;

-- The first day after p_day on which a record of the pair starts or stops being in force (NULL: none). The bits
-- judged on p_day hold on every day before it.
CREATE OR REPLACE FUNCTION gov.consent_next_change(p_source text, p_purpose text, p_day date)
RETURNS date
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT min(d) FROM (
        SELECT min(c.effective_from) AS d FROM gov.consent c
        WHERE c.source = p_source AND c.purpose = p_purpose AND c.effective_from > p_day
        UNION ALL
        SELECT min(c.effective_to) + 1 FROM gov.consent c
        WHERE c.source = p_source AND c.purpose = p_purpose AND c.effective_to >= p_day
    ) x
$$;

-- The set bits of the pair judged today under mode p_exclude (false: consenting persons; true: withdrawn persons),
-- from the history, for the persons in p_persons (NULL: all persons with records).
CREATE OR REPLACE FUNCTION gov.consent_bits_from_history(p_source text, p_purpose text, p_exclude boolean, p_persons bigint[])
RETURNS TABLE (word bigint, bits bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.person_id >> 6, bit_or(1::bigint << (c.person_id & 63)::integer)
    FROM gov.current_consent(p_source, p_purpose) c
    WHERE (p_persons IS NULL OR c.person_id = ANY(p_persons))
      AND CASE WHEN p_exclude THEN c.status = 'withdrawn' ELSE c.consented END
    GROUP BY c.person_id >> 6
$$;

-- Rebuilds the bitmap of one source and purpose, judged today under the model in force.
CREATE OR REPLACE FUNCTION gov.rebuild_consent_bitmap(p_source text, p_purpose text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_exclude boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('rweportal.consent_bitmap'), hashtext(p_source || '/' || p_purpose));
    SELECT m.model <> 'opt_in' INTO v_exclude FROM gov.current_model(p_source, p_purpose) m;
    DELETE FROM gov.consent_bitmap b WHERE b.source = p_source AND b.purpose = p_purpose;
    INSERT INTO gov.consent_bitmap (source, purpose, word, bits)
    SELECT p_source, p_purpose, x.word, x.bits FROM gov.consent_bits_from_history(p_source, p_purpose, v_exclude, NULL) x;
    INSERT INTO gov.consent_bitmap_state (source, purpose, exclude, as_of, valid_until, built_at)
    VALUES (p_source, p_purpose, v_exclude, current_date, gov.consent_next_change(p_source, p_purpose, current_date), clock_timestamp())
    ON CONFLICT (source, purpose) DO UPDATE
        SET exclude = excluded.exclude, as_of = excluded.as_of, valid_until = excluded.valid_until, built_at = excluded.built_at;
END;
$$;

-- Rebuilds every purpose of a source (loaders call it after writing a source's consent), or of every registered
-- source when p_source is NULL; with p_stale_only, only the pairs whose bitmap is missing or no longer valid today
-- (for a daily job: `SELECT gov.refresh_consent_bitmaps(NULL, true)`). Returns the number of pairs rebuilt.
CREATE OR REPLACE FUNCTION gov.refresh_consent_bitmaps(p_source text, p_stale_only boolean DEFAULT false)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_pair record;
    v_count integer := 0;
BEGIN
    FOR v_pair IN
        SELECT d.name AS source, p.code AS purpose
        FROM app.data_sources d CROSS JOIN gov.consent_purpose p
        LEFT JOIN gov.consent_bitmap_state s ON s.source = d.name AND s.purpose = p.code
        WHERE (p_source IS NULL OR d.name = p_source)
          AND (NOT p_stale_only OR s.source IS NULL OR s.as_of > current_date
               OR (s.valid_until IS NOT NULL AND s.valid_until <= current_date))
        ORDER BY d.name, p.code
    LOOP
        PERFORM gov.rebuild_consent_bitmap(v_pair.source, v_pair.purpose);
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END;
$$;

-- Keeps the bitmaps current as records arrive (the portal's grants and withdrawals, imports, loads): for each
-- source and purpose touched, the persons of the new records are judged again today and their bits replaced.
-- Large batches (a load) and bitmaps judged on an earlier day are rebuilt whole. Updates and deletes (nobody but
-- the owner may) rebuild the pairs they touch.
CREATE OR REPLACE FUNCTION gov.consent_bitmap_after_insert()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_pair record;
    v_state gov.consent_bitmap_state;
BEGIN
    FOR v_pair IN SELECT a.source, a.purpose, array_agg(DISTINCT a.person_id) AS persons FROM added a GROUP BY a.source, a.purpose LOOP
        SELECT * INTO v_state FROM gov.consent_bitmap_state s WHERE s.source = v_pair.source AND s.purpose = v_pair.purpose FOR UPDATE;
        IF NOT FOUND THEN
            CONTINUE; -- no bitmap for the pair: the filter computes it from the history until a rebuild makes one
        END IF;

        IF v_state.as_of <> current_date OR cardinality(v_pair.persons) > 5000 THEN
            PERFORM gov.rebuild_consent_bitmap(v_pair.source, v_pair.purpose);
            CONTINUE;
        END IF;

        -- Clear the touched persons' bits, then set those that hold today.
        WITH touched AS (
            SELECT p >> 6 AS word, bit_or(1::bigint << (p & 63)::integer) AS mask FROM unnest(v_pair.persons) p GROUP BY p >> 6
        )
        UPDATE gov.consent_bitmap b SET bits = b.bits & ~t.mask
        FROM touched t
        WHERE b.source = v_pair.source AND b.purpose = v_pair.purpose AND b.word = t.word;

        INSERT INTO gov.consent_bitmap AS b (source, purpose, word, bits)
        SELECT v_pair.source, v_pair.purpose, x.word, x.bits
        FROM gov.consent_bits_from_history(v_pair.source, v_pair.purpose, v_state.exclude, v_pair.persons) x
        ON CONFLICT (source, purpose, word) DO UPDATE SET bits = b.bits | excluded.bits;

        -- The state was judged today too, so the earliest change is the sooner of its own and the new records'.
        UPDATE gov.consent_bitmap_state s
        SET valid_until = (SELECT min(d) FROM (
                               SELECT s.valid_until AS d
                               UNION ALL SELECT a.effective_from FROM added a
                                   WHERE a.source = v_pair.source AND a.purpose = v_pair.purpose AND a.effective_from > current_date
                               UNION ALL SELECT a.effective_to + 1 FROM added a
                                   WHERE a.source = v_pair.source AND a.purpose = v_pair.purpose AND a.effective_to >= current_date) x),
            built_at = clock_timestamp()
        WHERE s.source = v_pair.source AND s.purpose = v_pair.purpose;
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION gov.consent_bitmap_after_change()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_pair record;
BEGIN
    FOR v_pair IN
        SELECT DISTINCT o.source, o.purpose FROM changed o
        JOIN gov.consent_bitmap_state s ON s.source = o.source AND s.purpose = o.purpose
    LOOP
        PERFORM gov.rebuild_consent_bitmap(v_pair.source, v_pair.purpose);
    END LOOP;
    RETURN NULL;
END;
$$;

-- A new, changed or removed model for a pair changes the mode and the set: rebuild it (with no model left, the pair is
-- opt-in again).
CREATE OR REPLACE FUNCTION gov.consent_bitmap_after_model()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_pair record;
BEGIN
    FOR v_pair IN SELECT DISTINCT a.source, a.purpose FROM added a LOOP
        PERFORM gov.rebuild_consent_bitmap(v_pair.source, v_pair.purpose);
    END LOOP;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS consent_bitmap_insert ON gov.consent;
DROP TRIGGER IF EXISTS consent_bitmap_update ON gov.consent;
DROP TRIGGER IF EXISTS consent_bitmap_delete ON gov.consent;
DROP TRIGGER IF EXISTS consent_bitmap_model ON gov.consent_model;
DROP TRIGGER IF EXISTS consent_bitmap_model_update ON gov.consent_model;
DROP TRIGGER IF EXISTS consent_bitmap_model_delete ON gov.consent_model;
CREATE TRIGGER consent_bitmap_insert AFTER INSERT ON gov.consent
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION gov.consent_bitmap_after_insert();
CREATE TRIGGER consent_bitmap_update AFTER UPDATE ON gov.consent
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION gov.consent_bitmap_after_change();
CREATE TRIGGER consent_bitmap_delete AFTER DELETE ON gov.consent
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION gov.consent_bitmap_after_change();
CREATE TRIGGER consent_bitmap_model AFTER INSERT ON gov.consent_model
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION gov.consent_bitmap_after_model();
CREATE TRIGGER consent_bitmap_model_update AFTER UPDATE ON gov.consent_model
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION gov.consent_bitmap_after_model();
CREATE TRIGGER consent_bitmap_model_delete AFTER DELETE ON gov.consent_model
    REFERENCING OLD TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION gov.consent_bitmap_after_model();

-- THE FAST CONSENT FILTER (what subgroup statements join): the bitmap of p_source for p_purpose as it stands today,
-- one row per word, plus one row with word NULL whose bits say how to read them (0: a set bit consents; 1: a set bit
-- is a withdrawal and every other person of the source consents). Read like this (SubgroupCompiler):
--   person consents  <=>  (bit of person_id in its word is set) <> (mode row's bits = 1)
CREATE OR REPLACE FUNCTION gov.consent_bitmap(p_source text, p_purpose text)
RETURNS TABLE (word bigint, bits bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_state gov.consent_bitmap_state;
    v_exclude boolean;
BEGIN
    SELECT * INTO v_state FROM gov.consent_bitmap_state s
    WHERE s.source = p_source AND s.purpose = p_purpose
      AND s.as_of <= current_date AND (s.valid_until IS NULL OR s.valid_until > current_date);
    IF FOUND THEN
        RETURN QUERY SELECT NULL::bigint, CASE WHEN v_state.exclude THEN 1::bigint ELSE 0::bigint END;
        RETURN QUERY SELECT b.word, b.bits FROM gov.consent_bitmap b WHERE b.source = p_source AND b.purpose = p_purpose;
        RETURN;
    END IF;

    -- Missing or judged on another day: the same bits from the history, today.
    SELECT m.model <> 'opt_in' INTO v_exclude FROM gov.current_model(p_source, p_purpose) m;
    -- An unregistered source has no persons: nobody consents, whatever the model.
    IF NOT EXISTS (SELECT 1 FROM app.data_sources d WHERE d.name = p_source) THEN
        RETURN QUERY SELECT NULL::bigint, 0::bigint;
        RETURN;
    END IF;

    RETURN QUERY SELECT NULL::bigint, CASE WHEN v_exclude THEN 1::bigint ELSE 0::bigint END;
    RETURN QUERY SELECT x.word, x.bits FROM gov.consent_bits_from_history(p_source, p_purpose, v_exclude, NULL) x;
END;
$$;

REVOKE ALL ON FUNCTION gov.consent_bitmap(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gov.rebuild_consent_bitmap(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION gov.refresh_consent_bitmaps(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION gov.consent_bits_from_history(text, text, boolean, bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION gov.consent_next_change(text, text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION gov.consent_bitmap(text, text) TO rwe_app, rwe_reader;

-- Every pair gets its bitmap when the registry is (re)applied.
SELECT gov.refresh_consent_bitmaps(NULL, false);

-- ------------------------------------------------------------------------------------------------ warehouse aggregates
-- Which sources' subgroup pre-aggregations (db/extensions/aggregates.sql, rebuilt by the loaders) match their tables
-- (decision 0741). A write to a table they summarise marks the source stale (statement triggers, installed with the
-- aggregates); subgroup statements read the aggregates only while fresh and the CDM tables otherwise. Kept here
-- because every subgroup statement reads it, whether or not a source was ever aggregated.
CREATE TABLE IF NOT EXISTS gov.warehouse_aggregates (
    schema_name text NOT NULL,
    fresh boolean NOT NULL,
    built_at timestamptz NOT NULL,
    CONSTRAINT pk_warehouse_aggregates PRIMARY KEY (schema_name)
);

REVOKE ALL ON gov.warehouse_aggregates FROM PUBLIC, rwe_app;
GRANT SELECT ON gov.warehouse_aggregates TO rwe_reader;

-- The statement trigger on the summarised tables of a source (installed per schema by the aggregates script).
CREATE OR REPLACE FUNCTION gov.mark_aggregates_stale()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE gov.warehouse_aggregates a SET fresh = false WHERE a.schema_name = TG_TABLE_SCHEMA AND a.fresh;
    RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION gov.mark_aggregates_stale() FROM PUBLIC;

-- Sources registered before the aggregates existed get the empty table (db/extensions/aggregates.sql has the same
-- definition, applied with every new schema), so every subgroup statement can name it.
DO $$
DECLARE
    v_schema text;
BEGIN
    FOR v_schema IN SELECT d.schema_name FROM app.data_sources d WHERE to_regnamespace(d.schema_name) IS NOT NULL LOOP
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS %I.agg_event (domain smallint NOT NULL, concept_id integer NOT NULL, unit_concept_id integer NULL, '
            'person_id bigint NOT NULL, first_date date NOT NULL, last_date date NOT NULL, events bigint NOT NULL, '
            'min_value numeric NULL, max_value numeric NULL)', v_schema);
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I.agg_event_words (domain smallint NOT NULL, concept_id integer NOT NULL, '
                       'word bigint NOT NULL, bits bigint NOT NULL)', v_schema);
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I.agg_wearable_span (person_id bigint NOT NULL, first_date date NOT NULL, '
                       'last_date date NOT NULL)', v_schema);
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I.agg_enrollment_span (person_id bigint NOT NULL, span_start date NOT NULL, '
                       'span_end date NOT NULL, previous_end date NULL)', v_schema);
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I.agg_wearable_month (person_id bigint NOT NULL, month date NOT NULL, '
                       'steps_days integer NOT NULL, steps_sum numeric NULL, resting_hr_days integer NOT NULL, resting_hr_sum numeric NULL, '
                       'hrv_rmssd_days integer NOT NULL, hrv_rmssd_sum numeric NULL, sleep_minutes_days integer NOT NULL, '
                       'sleep_minutes_sum numeric NULL)', v_schema);
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I.agg_enrollment_year_words (year integer NOT NULL, max_gap integer NOT NULL, '
                       'word bigint NOT NULL, bits bigint NOT NULL)', v_schema);
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I.agg_wearable_year (person_id bigint NOT NULL, year integer NOT NULL, '
                       'steps_days integer NOT NULL, steps_sum numeric NULL, resting_hr_days integer NOT NULL, resting_hr_sum numeric NULL, '
                       'hrv_rmssd_days integer NOT NULL, hrv_rmssd_sum numeric NULL, sleep_minutes_days integer NOT NULL, '
                       'sleep_minutes_sum numeric NULL)', v_schema);
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I.agg_event_value (domain smallint NOT NULL, concept_id integer NOT NULL, '
                       'unit_concept_id integer NULL, person_id bigint NOT NULL, min_value double precision NOT NULL, '
                       'max_value double precision NOT NULL)', v_schema);
        EXECUTE format('GRANT SELECT ON %I.agg_event, %I.agg_event_words, %I.agg_wearable_span, %I.agg_wearable_month, %I.agg_enrollment_span, '
                       '%I.agg_enrollment_year_words, %I.agg_wearable_year, %I.agg_event_value TO rwe_reader',
                       v_schema, v_schema, v_schema, v_schema, v_schema, v_schema, v_schema, v_schema);
        -- Summaries built before a table existed (decisions 0745-0747) leave it empty: such a source counts on the CDM
        -- tables until its next rebuild, never from an empty summary.
        EXECUTE format('UPDATE gov.warehouse_aggregates a SET fresh = false WHERE a.schema_name = %L AND a.fresh AND ('
                       '(NOT EXISTS (SELECT 1 FROM %I.agg_event_value) AND EXISTS (SELECT 1 FROM %I.agg_event e WHERE e.min_value IS NOT NULL)) '
                       'OR (NOT EXISTS (SELECT 1 FROM %I.agg_wearable_year) AND EXISTS (SELECT 1 FROM %I.agg_wearable_month)) '
                       'OR (NOT EXISTS (SELECT 1 FROM %I.agg_enrollment_year_words) AND EXISTS (SELECT 1 FROM %I.agg_enrollment_span)))',
                       v_schema, v_schema, v_schema, v_schema, v_schema, v_schema, v_schema);
    END LOOP;
END $$;
