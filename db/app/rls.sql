-- Row-level security on every tenant-owned table of the app schema: the second wall behind EF Core's tenant
-- query filters. Applied by AppMigrator after the EF migrations (owner role); idempotent.
--
-- The portal connects as rwe_app (no BYPASSRLS, owns nothing) and its DbContext sets, on every connection open:
--   rwe.tenant_id    the tenant the context works for ('' = none: no tenant-owned row is visible)
--   rwe.cross_tenant 'on' only in a context handed to a platform Admin for cross-tenant work (tenants, grants)
-- FORCE applies the policies to the table owner too, so a migration or a script run as rwe_owner is held to
-- the same rule unless it sets those settings itself.
--
-- Not here on purpose: app.tenants (the tenant registry), app.tenant_memberships and the Identity tables (a
-- person spans tenants; handlers filter memberships by the current tenant) and app.data_sources (platform-wide).

CREATE OR REPLACE FUNCTION app.current_tenant_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('rwe.tenant_id', true), '')::uuid $$;

CREATE OR REPLACE FUNCTION app.cross_tenant() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('rwe.cross_tenant', true), '') = 'on' $$;

GRANT EXECUTE ON FUNCTION app.current_tenant_id() TO rwe_app;
GRANT EXECUTE ON FUNCTION app.cross_tenant() TO rwe_app;

DO $$
DECLARE
    -- Every table of the app schema whose rows belong to one tenant (entities implementing ITenantOwned).
    tenant_owned text[] := ARRAY['tenant_data_source_grants'];
    t text;
BEGIN
    FOREACH t IN ARRAY tenant_owned LOOP
        EXECUTE format('ALTER TABLE app.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE app.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON app.%I', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON app.%I
                 USING (tenant_id = app.current_tenant_id() OR app.cross_tenant())
                 WITH CHECK (tenant_id = app.current_tenant_id() OR app.cross_tenant())',
            t);
    END LOOP;
END $$;
