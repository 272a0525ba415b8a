-- intake.sql — what `syncledger submit` needs from the database (SPEC §7),
-- also when an upstream system runs it under its own login (a member of
-- syncledger_upstream).
--
-- submit stages a file in one transaction: COPY into a temporary table (COPY
-- FROM is not allowed into a table with row-level security, which sync_item
-- has for upstreams), then INSERT ... SELECT into sync_job and sync_item as
-- the upstream's own rows (the job checked by the row-level security policies
-- of roles.sql; the items, moved by insert_staged_items, by add_staged_items
-- once for the job), and flips the job from Draft to Submitted. Before that
-- it checks the file's mapping against
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

-- insert_staged_items(job): the one INSERT ... SELECT of what `submit`
-- staged in this session's pg_temp.intake_item (the rows with an operation:
-- items) into job `job`; returns how many. It runs as its caller: a login
-- inserting as itself, under its own policies, or add_staged_items.
CREATE OR REPLACE FUNCTION integration.insert_staged_items(p_job bigint)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  added bigint;
BEGIN
  INSERT INTO integration.sync_item (job_id, seq, external_key, operation, field_name, new_value, source_timestamp)
  SELECT p_job, s.seq, s.external_key, s.operation, s.field_name, s.new_value, s.source_timestamp
    FROM pg_temp.intake_item s
   WHERE s.operation IS NOT NULL;
  GET DIAGNOSTICS added = ROW_COUNT;
  RETURN added;
END
$$;

-- add_staged_items(job, role): insert_staged_items for a login that
-- row-level security applies to, which would otherwise have every item
-- checked by the policy sync_item_upstream_submit_own (an index probe of the
-- job per item: a fifth of the time of a million-record file): the policy's
-- rule (job_takes_upstream_items, jobs.sql) is checked here once, for the
-- job, with the source systems whose login_role is `role` (a role of this
-- session: my_source_systems). Otherwise 42501, as the policy would refuse. SECURITY DEFINER for that alone: the caller
-- grants SELECT on its temporary table to the function's owner first; the
-- items get only the input columns, and are checked like every insert
-- (check_item_jobs, the CHECK constraints).
CREATE OR REPLACE FUNCTION integration.add_staged_items(p_job bigint, p_role name DEFAULT current_user)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM integration.sync_job j
                  WHERE j.job_id = p_job
                    AND integration.job_takes_upstream_items(j, integration.my_source_systems(p_role))) THEN
    RAISE EXCEPTION 'role % may not add items to job %', p_role, coalesce(p_job::text, 'NULL')
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Items go into an inbound job of the source system whose login role you are, before a worker starts it.';
  END IF;
  RETURN integration.insert_staged_items(p_job);
END
$$;

-- ---------------------------------------------------------------------------
-- Values checked before anything is submitted
-- ---------------------------------------------------------------------------

-- `syncledger submit` checks every value of a file as the worker will check
-- it, while the file streams, so that a file with a bad value submits
-- nothing (or, with --on-bad-rows skip, everything but the records with one)
-- instead of failing those items later. It sends, per batch of the file, the
-- distinct values of each field that needs a check: a field of a type other
-- than text, or one a code list governs.

-- intake_code_lists(table): the fields of a target table whose policy maps
-- values through a code list, and the list. An upstream may not read
-- commit_policy; this is the part of it that says which of its values must be
-- mapped (the value maps themselves stay unreadable: check_values answers
-- for the values it is given, nothing more).
CREATE OR REPLACE FUNCTION integration.intake_code_lists(p_table text)
RETURNS TABLE (field text, code_list text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  SELECT p.field_name, p.code_list
    FROM integration.commit_policy p
   WHERE p.target_table = p_table AND p.field_name IS NOT NULL AND p.code_list IS NOT NULL
   ORDER BY 1
$$;

-- check_values(source, table, values): the values that the worker would
-- refuse, of a jsonb object of field → array of values (each value once):
-- one row per refused value, with its 1-based place in its field's array,
-- and why: unmapped_in (the code list that has no mapping for it from the
-- source: the worker's "no mapping for ...") or cast_error (the cast of the
-- value, or of its canonical code, to the column's type: targets.sql,
-- cast_errors). Set-based per field: one statement maps the field's values,
-- one casts them all. A field that is no column of the table raises
-- undefined_column (submit checks the header against the catalogue first).
--
-- For the role the session acts as (p_role), like snapshot_keys: only a
-- source whose login_role it is, or any source for a role that may read the
-- value maps anyway (steward, admin, worker, the owner). Otherwise SL071.
CREATE OR REPLACE FUNCTION integration.check_values(p_source text, p_table text, p_values jsonb, p_role name DEFAULT current_user)
RETURNS TABLE (field text, ord integer, unmapped_in text, cast_error text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  f    record;
  t    record;
  cl   text;
  vals text[];
BEGIN
  IF NOT pg_has_role(session_user, p_role, 'MEMBER')
     OR NOT (has_table_privilege(p_role, 'integration.value_map', 'SELECT')
             OR p_source = ANY (integration.my_source_systems(p_role))) THEN
    RAISE EXCEPTION 'role % may not check values for source system %', p_role, quote_literal(p_source)
      USING ERRCODE = 'SL071',
            HINT = 'a file is submitted by the source''s own login role (integration.source_system.login_role)';
  END IF;
  FOR f IN SELECT e.key, e.value FROM jsonb_each(p_values) AS e ORDER BY e.key LOOP
    t := integration.resolve_target(p_table, f.key);
    vals := ARRAY(SELECT jsonb_array_elements_text(f.value));
    SELECT p.code_list INTO cl
      FROM integration.commit_policy p
     WHERE p.target_table = p_table AND p.field_name = f.key;
    IF cl IS NOT NULL THEN
      RETURN QUERY
      SELECT f.key, u.o::integer, cl, NULL::text
        FROM unnest(vals) WITH ORDINALITY AS u(v, o)
       WHERE NOT EXISTS (SELECT FROM integration.value_map m
                          WHERE m.source_system_key = p_source AND m.code_list = cl AND m.source_code = u.v);
      -- What is cast is the canonical code (NULL where there is none: already refused).
      vals := ARRAY(SELECT m.canonical_code_value
                      FROM unnest(vals) WITH ORDINALITY AS u(v, o)
                      LEFT JOIN integration.value_map m
                        ON m.source_system_key = p_source AND m.code_list = cl AND m.source_code = u.v
                     ORDER BY u.o);
    END IF;
    RETURN QUERY
    SELECT f.key, c.ord, NULL::text, c.error
      FROM integration.cast_errors(format('%I.%I', t.rel_schema, t.rel_name)::regclass, f.key::name, vals) AS c;
  END LOOP;
END
$$;
