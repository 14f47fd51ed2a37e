-- The portal connects as rwe_app: it reads and writes the app schema but owns nothing and cannot bypass RLS.
-- Applied after every migration (idempotent).
GRANT USAGE ON SCHEMA app TO rwe_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO rwe_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA app TO rwe_app;
REVOKE ALL ON app.__ef_migrations_history FROM rwe_app;
GRANT SELECT ON app.__ef_migrations_history TO rwe_app;
