-- Protocol governance in the database (docs/protocols.md, Governance; decisions 0920-0925). Idempotent: AppMigrator
-- runs it as the owner after the EF migrations and before grants.sql and rls.sql, which give rwe_app its privileges
-- on the tables and FORCE row-level security on them (they have tenant_id).
--
-- The rules below hold for every role that writes through the tables, rwe_app included, whatever the portal does:
--   * a version is inserted as a draft, and at commit a draft's document is its current revision's (every save is
--     a revision); its state moves only Draft -> InReview -> Approved | Rejected,
--     Rejected -> Draft, Approved -> Superseded;
--   * from submission on the content (document, content hash, revision) is fixed, and the hash is the SHA-256 of the
--     stored canonical document;
--   * an approved version is locked: no UPDATE except the one move to Superseded (state, superseded_at,
--     superseded_by_version), no DELETE; a superseded version is locked whole;
--   * Approved needs an electronic signature bound to the version's content hash by someone who did not author it,
--     Rejected a rejecting review by such a person;
--   * revisions, reviews, signatures and amendments are append-only (no UPDATE, DELETE or TRUNCATE, owner included);
--     a signature's time is the database server's clock.
-- The errors carry SQLSTATE 55000 (object_not_in_prerequisite_state) for a locked or out-of-order change and 42501
-- (insufficient_privilege) for a change to append-only history or a self-approval.

-- Who authored a version: its creator, everyone who saved a revision of it, and who submitted it.
CREATE OR REPLACE FUNCTION app.protocol_version_authors(p_version_id uuid)
RETURNS SETOF uuid
LANGUAGE sql STABLE
AS $$
    SELECT v.created_by FROM app.protocol_versions v WHERE v.id = p_version_id
    UNION
    SELECT v.submitted_by FROM app.protocol_versions v WHERE v.id = p_version_id AND v.submitted_by IS NOT NULL
    UNION
    SELECT r.author_id FROM app.protocol_revisions r WHERE r.version_id = p_version_id
$$;

CREATE OR REPLACE FUNCTION app.protocol_document_hash(p_document text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT encode(sha256(convert_to(p_document, 'UTF8')), 'hex') $$;

CREATE OR REPLACE FUNCTION app.protocol_versions_guard() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    unchanged app.protocol_versions;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.state <> 'Draft' OR NEW.content_hash IS NOT NULL THEN
            RAISE EXCEPTION 'protocol version %: a version begins as a draft without a content hash', NEW.version
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN NEW;
    END IF;

    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'protocol version % (%): versions are never deleted', OLD.version, OLD.state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    IF (NEW.id, NEW.tenant_id, NEW.protocol_id, NEW.version, NEW.created_by, NEW.created_at)
        IS DISTINCT FROM (OLD.id, OLD.tenant_id, OLD.protocol_id, OLD.version, OLD.created_by, OLD.created_at) THEN
        RAISE EXCEPTION 'protocol version %: its identity never changes', OLD.version
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    IF OLD.state = 'Approved' THEN
        unchanged := NEW;
        unchanged.state := OLD.state;
        unchanged.superseded_at := OLD.superseded_at;
        unchanged.superseded_by_version := OLD.superseded_by_version;
        IF NEW.state <> 'Superseded' OR unchanged IS DISTINCT FROM OLD
            OR NEW.superseded_at IS NULL OR NEW.superseded_by_version IS NULL
            OR NEW.superseded_by_version <= OLD.version
            OR NOT EXISTS (SELECT 1 FROM app.protocol_versions later
                           WHERE later.protocol_id = OLD.protocol_id AND later.version = NEW.superseded_by_version
                             AND later.state = 'InReview') THEN
            RAISE EXCEPTION 'protocol version % is approved and locked: only its supersession by a later approved version may be recorded', OLD.version
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN NEW;
    END IF;

    IF OLD.state = 'Superseded' THEN
        RAISE EXCEPTION 'protocol version % is superseded and locked', OLD.version
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    IF OLD.state = 'InReview' THEN
        IF (NEW.document, NEW.content_hash, NEW.revision, NEW.submitted_by, NEW.submitted_at)
            IS DISTINCT FROM (OLD.document, OLD.content_hash, OLD.revision, OLD.submitted_by, OLD.submitted_at) THEN
            RAISE EXCEPTION 'protocol version % is in review: its content is fixed', OLD.version
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;

        IF NEW.state = 'Approved' THEN
            IF app.protocol_document_hash(NEW.document) <> NEW.content_hash THEN
                RAISE EXCEPTION 'protocol version %: the content hash does not match the document', OLD.version
                    USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
            IF NOT EXISTS (SELECT 1 FROM app.protocol_signatures s
                           WHERE s.version_id = NEW.id AND s.content_hash = NEW.content_hash
                             AND s.signer_id NOT IN (SELECT app.protocol_version_authors(NEW.id))) THEN
                RAISE EXCEPTION 'protocol version %: approval needs the electronic signature of a reviewer who did not author it', OLD.version
                    USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
        ELSIF NEW.state = 'Rejected' THEN
            IF NOT EXISTS (SELECT 1 FROM app.protocol_reviews r
                           WHERE r.version_id = NEW.id AND r.decision = 'Rejected' AND r.content_hash = NEW.content_hash) THEN
                RAISE EXCEPTION 'protocol version %: a rejection needs a reviewer''s rejecting review', OLD.version
                    USING ERRCODE = 'object_not_in_prerequisite_state';
            END IF;
        ELSIF NEW.state <> 'InReview' THEN
            RAISE EXCEPTION 'protocol version % is in review: it can only be approved or rejected', OLD.version
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN NEW;
    END IF;

    -- Draft or Rejected.
    IF NEW.state = 'Draft' THEN
        IF NEW.content_hash IS NOT NULL THEN
            RAISE EXCEPTION 'protocol version %: a draft has no content hash', OLD.version
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN NEW;
    END IF;

    IF OLD.state = 'Draft' AND NEW.state = 'InReview' THEN
        IF NEW.content_hash IS NULL OR app.protocol_document_hash(NEW.document) <> NEW.content_hash
            OR NEW.submitted_by IS NULL OR NEW.submitted_at IS NULL THEN
            RAISE EXCEPTION 'protocol version %: a submission records who submitted it and the hash of its document', OLD.version
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN NEW;
    END IF;

    IF OLD.state = 'Rejected' AND NEW.state = 'Rejected' THEN
        IF (NEW.document, NEW.content_hash, NEW.revision) IS DISTINCT FROM (OLD.document, OLD.content_hash, OLD.revision) THEN
            RAISE EXCEPTION 'protocol version % was rejected: it changes only as a draft again', OLD.version
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN NEW;
    END IF;

    RAISE EXCEPTION 'protocol version %: % -> % is not a step of the review', OLD.version, OLD.state, NEW.state
        USING ERRCODE = 'object_not_in_prerequisite_state';
END;
$$;

DROP TRIGGER IF EXISTS protocol_versions_guard ON app.protocol_versions;
CREATE TRIGGER protocol_versions_guard
    BEFORE INSERT OR UPDATE OR DELETE ON app.protocol_versions
    FOR EACH ROW EXECUTE FUNCTION app.protocol_versions_guard();

-- Every draft content that commits is a revision: at commit, a draft's document is the document of its current
-- revision, by the revision's number (deferred, so the version and its revision may be written in either order).
CREATE OR REPLACE FUNCTION app.protocol_draft_is_a_revision() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    current_row app.protocol_versions;
BEGIN
    -- The row as it is now, at commit (the event may be an earlier state of it).
    SELECT * INTO current_row FROM app.protocol_versions v WHERE v.id = NEW.id;
    IF FOUND AND current_row.state = 'Draft' AND NOT EXISTS (
        SELECT 1 FROM app.protocol_revisions r
        WHERE r.version_id = current_row.id AND r.revision = current_row.revision AND r.document = current_row.document) THEN
        RAISE EXCEPTION 'protocol version %: a draft''s content is saved as a revision (revision % holds another document)', current_row.version, current_row.revision
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS protocol_draft_is_a_revision ON app.protocol_versions;
CREATE CONSTRAINT TRIGGER protocol_draft_is_a_revision
    AFTER INSERT OR UPDATE ON app.protocol_versions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION app.protocol_draft_is_a_revision();

-- History of a version: nobody changes or removes it, the owner included (an owner who disables the triggers can;
-- the verify slice then finds a signature that no longer matches the content).
CREATE OR REPLACE FUNCTION app.protocol_history_refuse_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION '%.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- What may be appended: revisions only to a draft (or a rejected version being reopened), reviews and signatures only
-- to a version in review, by someone who did not author it, on the content hash it carries; amendments only from an
-- approved (or superseded) version.
CREATE OR REPLACE FUNCTION app.protocol_history_check_insert() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    target app.protocol_versions;
BEGIN
    IF TG_TABLE_NAME = 'protocol_amendments' THEN
        IF NOT EXISTS (SELECT 1 FROM app.protocol_versions v
                       WHERE v.protocol_id = NEW.protocol_id AND v.version = NEW.from_version
                         AND v.state IN ('Approved', 'Superseded'))
            OR NEW.to_version <= NEW.from_version OR btrim(NEW.reason) = '' THEN
            RAISE EXCEPTION 'an amendment starts from an approved version, opens a later one and gives a reason'
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN NEW;
    END IF;

    SELECT * INTO target FROM app.protocol_versions v WHERE v.id = NEW.version_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such protocol version' USING ERRCODE = 'foreign_key_violation';
    END IF;

    IF TG_TABLE_NAME = 'protocol_revisions' THEN
        IF target.state NOT IN ('Draft', 'Rejected') THEN
            RAISE EXCEPTION 'protocol version % is %: only a draft takes revisions', target.version, target.state
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN NEW;
    END IF;

    IF TG_TABLE_NAME = 'protocol_signatures' THEN
        -- The signature's time is the database server's, whatever the writer sent.
        NEW.signed_at := statement_timestamp();
        IF btrim(NEW.meaning) = '' OR btrim(NEW.printed_name) = '' THEN
            RAISE EXCEPTION 'a signature shows the printed name of the signer and its meaning'
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;

    IF target.state <> 'InReview' OR NEW.content_hash IS DISTINCT FROM target.content_hash THEN
        RAISE EXCEPTION 'protocol version % is %: reviews and signatures are on a version in review, bound to its content hash', target.version, target.state
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    -- NEW's fields differ by table, and PL/pgSQL resolves a field when it prepares the expression: one branch each.
    IF TG_TABLE_NAME = 'protocol_signatures' THEN
        IF NEW.signer_id IN (SELECT app.protocol_version_authors(target.id)) THEN
            RAISE EXCEPTION 'protocol version %: an author of a version does not sign it', target.version
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF NEW.reviewer_id IN (SELECT app.protocol_version_authors(target.id)) THEN
        RAISE EXCEPTION 'protocol version %: an author of a version does not review it', target.version
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['protocol_revisions', 'protocol_reviews', 'protocol_signatures', 'protocol_amendments']
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON app.%I', t || '_refuse_change', t);
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON app.%I FOR EACH ROW EXECUTE FUNCTION app.protocol_history_refuse_change()',
            t || '_refuse_change', t);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON app.%I', t || '_refuse_truncate', t);
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE TRUNCATE ON app.%I FOR EACH STATEMENT EXECUTE FUNCTION app.protocol_history_refuse_change()',
            t || '_refuse_truncate', t);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON app.%I', t || '_check_insert', t);
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE INSERT ON app.%I FOR EACH ROW EXECUTE FUNCTION app.protocol_history_check_insert()',
            t || '_check_insert', t);
    END LOOP;
END $$;

DROP TRIGGER IF EXISTS protocol_versions_refuse_truncate ON app.protocol_versions;
CREATE TRIGGER protocol_versions_refuse_truncate
    BEFORE TRUNCATE ON app.protocol_versions
    FOR EACH STATEMENT EXECUTE FUNCTION app.protocol_history_refuse_change();

REVOKE ALL ON FUNCTION app.protocol_version_authors(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.protocol_document_hash(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.protocol_version_authors(uuid) TO rwe_app;
GRANT EXECUTE ON FUNCTION app.protocol_document_hash(text) TO rwe_app;
