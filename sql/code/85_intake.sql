-- intake.sql — what `syncledger submit` needs from the database (SPEC §7),
-- also when an upstream system runs it under its own login (a member of
-- syncledger_upstream).
--
-- submit stages a file in one transaction: COPY into a temporary table (COPY
-- FROM is not allowed into a table with row-level security, which sync_item
-- has for upstreams), then INSERT ... SELECT into sync_job and sync_item as
-- the upstream's own rows (the row-level security policies of roles.sql check them), and flips the job
-- from Draft to Submitted. Before that it checks the file's mapping against
-- the catalogue, which an upstream could not read until now: it gets the
-- registered tables, and the key and active flag of each source system
-- (as connectors can), not who logs in as which system.
--
-- With --snapshot, records the crosswalk holds for the source and table but
-- the file lacks get Delete items. The crosswalk is not the upstream's to
-- read (it names every system's keys); integration.snapshot_keys gives it
-- its own source's keys for one table, and nothing else.

-- snapshot_keys(source, table): the external keys the crosswalk holds for
-- that source and table whose record is not deleted (the owner of its Record
-- aspect is not 'deleted': sending Delete again would only be skipped, night
-- after night). For the role the session acts as (p_role, evaluated where the
-- function is called): only a source whose login_role it is
-- (integration.my_source_systems), or any source for a role that may read the
-- crosswalk anyway (steward, admin, worker, the owner). Otherwise SL071.
CREATE OR REPLACE FUNCTION integration.snapshot_keys(p_source text, p_table text, p_role name DEFAULT current_user)
RETURNS TABLE (external_key text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
BEGIN
  IF NOT pg_has_role(session_user, p_role, 'MEMBER')
     OR NOT (has_table_privilege(p_role, 'integration.identifier', 'SELECT')
             OR p_source = ANY (integration.my_source_systems(p_role))) THEN
    RAISE EXCEPTION 'role % may not read the crosswalk of source system %', p_role, quote_literal(p_source)
      USING ERRCODE = 'SL071',
            HINT = 'a snapshot is submitted by the source''s own login role (integration.source_system.login_role)';
  END IF;
  RETURN QUERY
  SELECT x.external_key
    FROM integration.identifier x
   WHERE x.source_system_key = p_source AND x.target_table = p_table
     AND NOT EXISTS (SELECT FROM integration.owner_entry(x.target_table, x.target_id, 'record') o
                      WHERE o.value = 'deleted');
END
$$;
