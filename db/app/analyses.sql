-- Analysis runs: the durable queue of protocol runs and their results (docs/analyses-runs.md; decisions 1040-1045).
-- Idempotent: AppMigrator runs it as the owner after the EF migrations and before grants.sql and rls.sql, which give
-- rwe_app its privileges on the table and FORCE row-level security on it (it has tenant_id).
--
-- The table is the queue: a worker claims a queued run with FOR UPDATE SKIP LOCKED through the one SECURITY DEFINER
-- function below (the only cross-tenant read), then works as the run's tenant and user, renewing its lease with every
-- heartbeat and progress line. The rules below hold for every role that writes the table, rwe_app included:
--   * a run is inserted queued, first attempt, without worker, lease, result or record;
--   * its inputs (tenant, protocol version and hash, source, purpose, seed, requester, created_at) never change;
--   * status moves only queued -> running | cancelled; running -> running (progress, or a new attempt once its lease
--     expired) | succeeded | failed | cancelled | queued; failed | cancelled -> queued (a retry: the next attempt);
--   * the result and the reproducibility record are written only by the move to succeeded, and a succeeded run is
--     locked whole: no UPDATE, no DELETE.
-- Errors carry SQLSTATE 55000 (object_not_in_prerequisite_state).

CREATE TABLE IF NOT EXISTS app.analysis_runs (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
    protocol_id uuid NOT NULL REFERENCES app.protocols (id) ON DELETE RESTRICT,
    protocol_version_id uuid NOT NULL REFERENCES app.protocol_versions (id) ON DELETE RESTRICT,
    protocol_version integer NOT NULL CHECK (protocol_version >= 1),
    protocol_hash text NOT NULL CHECK (protocol_hash ~ '^[0-9a-f]{64}$'),
    protocol_title text NOT NULL,
    data_source_id uuid NOT NULL,
    source text NOT NULL,
    purpose text NOT NULL,
    seed integer NOT NULL,
    requested_by uuid NOT NULL,
    status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    step text,
    message text,
    fraction double precision CHECK (fraction IS NULL OR (fraction >= 0 AND fraction <= 1)),
    step_timings jsonb NOT NULL DEFAULT '[]'::jsonb,
    attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    error_code text,
    error_message text,
    cancel_requested boolean NOT NULL DEFAULT false,
    worker text,
    lease_expires_at timestamptz,
    heartbeat_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    result jsonb,
    reproducibility jsonb,
    hazard_ratio double precision,
    hazard_ratio_lower double precision,
    hazard_ratio_upper double precision,
    CONSTRAINT ck_analysis_runs_succeeded_has_result
        CHECK (status <> 'succeeded' OR (result IS NOT NULL AND reproducibility IS NOT NULL AND finished_at IS NOT NULL)),
    CONSTRAINT ck_analysis_runs_failed_has_error CHECK (status <> 'failed' OR error_code IS NOT NULL),
    CONSTRAINT ck_analysis_runs_running_has_lease
        CHECK (status <> 'running' OR (worker IS NOT NULL AND lease_expires_at IS NOT NULL))
);

CREATE INDEX IF NOT EXISTS ix_analysis_runs_claim ON app.analysis_runs (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS ix_analysis_runs_tenant_created ON app.analysis_runs (tenant_id, created_at DESC);
CREATE INDEX IF NOT EXISTS ix_analysis_runs_protocol ON app.analysis_runs (protocol_id, protocol_version);

CREATE OR REPLACE FUNCTION app.analysis_runs_guard() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'queued' OR NEW.attempt <> 1 OR NEW.worker IS NOT NULL OR NEW.lease_expires_at IS NOT NULL
            OR NEW.result IS NOT NULL OR NEW.reproducibility IS NOT NULL OR NEW.started_at IS NOT NULL
            OR NEW.finished_at IS NOT NULL OR NEW.cancel_requested THEN
            RAISE EXCEPTION 'analysis run %: a run begins queued, as its first attempt, without a worker or a result', NEW.id
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        NEW.created_at := statement_timestamp();
        RETURN NEW;
    END IF;

    IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('succeeded', 'running') THEN
            RAISE EXCEPTION 'analysis run % is %: it is never deleted', OLD.id, OLD.status
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN OLD;
    END IF;

    IF (NEW.id, NEW.tenant_id, NEW.protocol_id, NEW.protocol_version_id, NEW.protocol_version, NEW.protocol_hash,
        NEW.protocol_title, NEW.data_source_id, NEW.source, NEW.purpose, NEW.seed, NEW.requested_by, NEW.created_at)
        IS DISTINCT FROM
       (OLD.id, OLD.tenant_id, OLD.protocol_id, OLD.protocol_version_id, OLD.protocol_version, OLD.protocol_hash,
        OLD.protocol_title, OLD.data_source_id, OLD.source, OLD.purpose, OLD.seed, OLD.requested_by, OLD.created_at) THEN
        RAISE EXCEPTION 'analysis run %: its inputs never change', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    IF OLD.status = 'succeeded' THEN
        RAISE EXCEPTION 'analysis run % succeeded: its result and record are locked', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    IF NOT (
        (OLD.status = 'queued' AND NEW.status IN ('queued', 'running', 'cancelled'))
        OR (OLD.status = 'running' AND NEW.status IN ('running', 'succeeded', 'failed', 'cancelled', 'queued'))
        OR (OLD.status IN ('failed', 'cancelled') AND NEW.status IN (OLD.status, 'queued'))) THEN
        RAISE EXCEPTION 'analysis run %: % -> % is not a step of a run', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    -- A retry is the next attempt of the same inputs, from a clean slate.
    IF OLD.status IN ('failed', 'cancelled') AND NEW.status = 'queued'
        AND (NEW.attempt <> OLD.attempt + 1 OR NEW.worker IS NOT NULL OR NEW.cancel_requested OR NEW.finished_at IS NOT NULL) THEN
        RAISE EXCEPTION 'analysis run %: a retry queues attempt % without a worker', OLD.id, OLD.attempt + 1
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    -- A new attempt of a running run only once the lease of the worker that had it expired.
    IF OLD.status = 'running' AND NEW.attempt <> OLD.attempt AND OLD.lease_expires_at >= statement_timestamp() THEN
        RAISE EXCEPTION 'analysis run %: another worker holds its lease', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    IF NEW.status <> 'succeeded' AND (NEW.result IS NOT NULL OR NEW.reproducibility IS NOT NULL) THEN
        RAISE EXCEPTION 'analysis run %: a result is written only with the move to succeeded', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    IF NEW.status IN ('succeeded', 'failed', 'cancelled') AND NEW.status <> OLD.status THEN
        NEW.finished_at := statement_timestamp();
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS analysis_runs_guard ON app.analysis_runs;
CREATE TRIGGER analysis_runs_guard
    BEFORE INSERT OR UPDATE OR DELETE ON app.analysis_runs
    FOR EACH ROW EXECUTE FUNCTION app.analysis_runs_guard();

CREATE OR REPLACE FUNCTION app.analysis_runs_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'app.analysis_runs keeps every run: TRUNCATE refused' USING ERRCODE = 'insufficient_privilege';
END;
$$;

DROP TRIGGER IF EXISTS analysis_runs_refuse_truncate ON app.analysis_runs;
CREATE TRIGGER analysis_runs_refuse_truncate
    BEFORE TRUNCATE ON app.analysis_runs
    FOR EACH STATEMENT EXECUTE FUNCTION app.analysis_runs_refuse_truncate();

-- Live progress: every change a reader sees (status, step, message, fraction, a cancel request) is announced on the
-- channel with the run's id only; listeners read the run through the slices, as their own tenant (RLS decides).
-- Heartbeats that change nothing else are not announced.
CREATE OR REPLACE FUNCTION app.analysis_runs_notify() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR (NEW.status, NEW.step, NEW.message, NEW.fraction, NEW.cancel_requested, NEW.attempt)
        IS DISTINCT FROM (OLD.status, OLD.step, OLD.message, OLD.fraction, OLD.cancel_requested, OLD.attempt) THEN
        PERFORM pg_notify('rwe_analysis_runs', NEW.id::text);
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS analysis_runs_notify ON app.analysis_runs;
CREATE TRIGGER analysis_runs_notify
    AFTER INSERT OR UPDATE ON app.analysis_runs
    FOR EACH ROW EXECUTE FUNCTION app.analysis_runs_notify();

-- The worker's one cross-tenant step: take the oldest run that is queued, or running under a lease that expired (its
-- worker died), and lease it to p_worker. Returns only what the worker needs to bind the run's tenant and user; all
-- later reads and writes go through row-level security as that tenant. A run whose lease expired after its last
-- allowed attempt is failed (Run.WorkerLost, retryable) instead of taken again.
CREATE OR REPLACE FUNCTION app.claim_analysis_run(p_worker text, p_lease_seconds integer, p_max_attempts integer)
RETURNS TABLE (run_id uuid, tenant_id uuid, requested_by uuid, attempt integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lost record;
    picked record;
BEGIN
    IF p_worker IS NULL OR btrim(p_worker) = '' OR p_lease_seconds < 1 OR p_max_attempts < 1 THEN
        RAISE EXCEPTION 'a claim names its worker, a lease of at least a second and the attempts allowed'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    FOR lost IN
        SELECT r.id FROM app.analysis_runs r
        WHERE r.status = 'running' AND r.lease_expires_at < statement_timestamp() AND r.attempt >= p_max_attempts
        FOR UPDATE SKIP LOCKED
    LOOP
        UPDATE app.analysis_runs r
        SET status = 'failed', error_code = 'Run.WorkerLost',
            error_message = 'The worker running this run stopped before it finished, on its last allowed attempt; retry it.',
            worker = NULL, lease_expires_at = NULL
        WHERE r.id = lost.id;
    END LOOP;

    SELECT r.id, r.status INTO picked FROM app.analysis_runs r
    WHERE r.status = 'queued' OR (r.status = 'running' AND r.lease_expires_at < statement_timestamp())
    ORDER BY r.created_at, r.id
    LIMIT 1
    FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    RETURN QUERY
    UPDATE app.analysis_runs r
    SET status = 'running',
        attempt = CASE WHEN picked.status = 'running' THEN r.attempt + 1 ELSE r.attempt END,
        worker = p_worker,
        lease_expires_at = statement_timestamp() + make_interval(secs => p_lease_seconds),
        heartbeat_at = statement_timestamp(),
        started_at = statement_timestamp(),
        step = NULL, message = 'Claimed by a worker', fraction = NULL, step_timings = '[]'::jsonb,
        error_code = NULL, error_message = NULL
    WHERE r.id = picked.id
    RETURNING r.id, r.tenant_id, r.requested_by, r.attempt;
END;
$$;

ALTER FUNCTION app.claim_analysis_run(text, integer, integer) OWNER TO rwe_owner;
REVOKE ALL ON FUNCTION app.claim_analysis_run(text, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.claim_analysis_run(text, integer, integer) TO rwe_app;
