-- The portal connects as rwe_app: it reads and writes the app schema but owns nothing and cannot bypass RLS.
-- Applied after every migration (idempotent).
GRANT USAGE ON SCHEMA app TO rwe_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO rwe_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA app TO rwe_app;
REVOKE ALL ON app.__ef_migrations_history FROM rwe_app;
GRANT SELECT ON app.__ef_migrations_history TO rwe_app;

-- The small-cell noise key is read, never written, by the portal: a portal that could replace it could choose the
-- noise and undo the protection (docs/privacy.md). The migration writes it once, as the owner.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON app.small_cell_noise_key FROM rwe_app;

-- Saved subgroups and concept sets keep every revision: the portal appends revisions and never changes or removes
-- one; a delete marks the library object instead of removing it (decision 0762).
REVOKE UPDATE, DELETE, TRUNCATE ON app.saved_subgroup_revisions, app.saved_concept_set_revisions FROM rwe_app;
REVOKE DELETE, TRUNCATE ON app.saved_subgroups, app.saved_concept_sets FROM rwe_app;

-- Analysis runs are kept: the portal queues, cancels and retries them but never removes one (db/app/analyses.sql).
REVOKE DELETE, TRUNCATE ON app.analysis_runs FROM rwe_app;
