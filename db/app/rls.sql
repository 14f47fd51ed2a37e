-- Row-level security on every tenant-owned table: the second wall behind EF Core's tenant query filters.
-- Applied by the schema runner after the EF migrations (owner role); idempotent (docs/security.md, decision 0410).
--
-- The portal connects as rwe_app (no BYPASSRLS, owns nothing). Its connections set rwe.tenant_id to the tenant the
-- work is for ('' = none: no tenant-owned row is visible). There is no other setting: no value rwe_app can SET
-- shows it more than one tenant's rows at a time. Work that spans tenants (the platform Admin's overviews, the
-- sign-in look-up of a user's memberships) goes through the narrow SECURITY DEFINER functions below, each returning
-- exactly what its one caller needs.
--
-- Every table of the app schema with a tenant_id column is tenant-owned, now and for every table added later
-- (saved subgroups, protocols, runs): the loop below finds them, so a new table cannot be left out. The owner
-- role (migrations, loads, the CLI, the definer functions) has a policy of its own; FORCE holds it to policies too.

CREATE OR REPLACE FUNCTION app.current_tenant_id() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('rwe.tenant_id', true), '')::uuid $$;

-- The old escape hatch is gone for good: a database migrated before keeps no function or policy that reads it.
DROP FUNCTION IF EXISTS app.cross_tenant() CASCADE;

REVOKE ALL ON FUNCTION app.current_tenant_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.current_tenant_id() TO rwe_app, rwe_reader;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.table_schema, c.table_name
        FROM information_schema.columns c
        JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
        WHERE c.table_schema = 'app' AND c.column_name = 'tenant_id' AND tb.table_type = 'BASE TABLE'
    LOOP
        EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', t.table_schema, t.table_name);
        EXECUTE format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', t.table_schema, t.table_name);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I.%I', t.table_schema, t.table_name);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I.%I TO rwe_app
                 USING (tenant_id = app.current_tenant_id())
                 WITH CHECK (tenant_id = app.current_tenant_id())',
            t.table_schema, t.table_name);
        EXECUTE format('DROP POLICY IF EXISTS owner_all ON %I.%I', t.table_schema, t.table_name);
        EXECUTE format('CREATE POLICY owner_all ON %I.%I TO rwe_owner USING (true) WITH CHECK (true)', t.table_schema, t.table_name);
    END LOOP;
END $$;

-- Sign-in: the tenants a user belongs to, with the role held in each (every tenant, for the cookie and the switcher).
CREATE OR REPLACE FUNCTION app.user_memberships(p_user_id uuid)
RETURNS TABLE (tenant_id uuid, tenant_name text, tenant_active boolean, role text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.id, t.name::text, t.is_active, m.role::text
    FROM app.tenant_memberships m
    JOIN app.tenants t ON t.id = m.tenant_id
    WHERE m.user_id = p_user_id
    ORDER BY t.name, m.role
$$;

-- Platform Admin, tenants page: per tenant, its members and data source grants counted (no names, no rows).
CREATE OR REPLACE FUNCTION app.platform_tenant_counts()
RETURNS TABLE (tenant_id uuid, members integer, data_sources integer)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.id,
           (SELECT count(DISTINCT m.user_id)::integer FROM app.tenant_memberships m WHERE m.tenant_id = t.id),
           (SELECT count(*)::integer FROM app.tenant_data_source_grants g WHERE g.tenant_id = t.id)
    FROM app.tenants t
$$;

-- Platform Admin, data sources page: which tenant may use which source for which purposes.
CREATE OR REPLACE FUNCTION app.platform_data_source_grants()
RETURNS TABLE (data_source_id uuid, tenant_id uuid, purposes text[], granted_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT g.data_source_id, g.tenant_id, g.purposes, g.granted_at FROM app.tenant_data_source_grants g
$$;

REVOKE ALL ON FUNCTION app.user_memberships(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION app.platform_tenant_counts() FROM PUBLIC;
REVOKE ALL ON FUNCTION app.platform_data_source_grants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.user_memberships(uuid) TO rwe_app;
GRANT EXECUTE ON FUNCTION app.platform_tenant_counts() TO rwe_app;
GRANT EXECUTE ON FUNCTION app.platform_data_source_grants() TO rwe_app;
