-- 005_roles.sql — database roles, privileges and row-level security (SPEC §6).
--
-- Five group roles (NOLOGIN). People and programs log in with roles of their
-- own and are made members of one of these; nothing here grants anything to a
-- login role directly:
--
--   syncledger_upstream   the systems that submit: insert inbound jobs and
--                         items for their own source system only, read their
--                         own jobs and items, flip their own Draft jobs to
--                         Submitted. Row-level security enforces "own".
--   syncledger_connector  the systems that receive: claim and acknowledge the
--                         outbound jobs of their own source system only
--                         (integration.claim_outbound / ack_outbound).
--   syncledger_worker     `syncledger worker`: processes inbound jobs.
--   syncledger_steward    reads everything; changes ledger state only through
--                         certify / reject / revoke / requeue_failed.
--   syncledger_admin      the configuration tables; reads everything else;
--                         requeue_failed after fixing a value map.
--
-- Which source system a login role speaks for is configuration:
-- integration.source_system.login_role. Setting that column is therefore a
-- security decision (whoever may write it may make a login speak for any
-- system), which is why only syncledger_admin may write it.
--
-- Why a separate connector role: receiving is not submitting. A system that
-- only receives (a CRM fed from HR) needs no right to insert inbound jobs, and
-- one that only submits needs no right to change job state. Both roles use the
-- same mapping (source_system.login_role), so a system that does both is a
-- member of both: GRANT syncledger_upstream, syncledger_connector TO hr_sync.
--
-- Target tables (e.g. core.person) are the operator's, not syncledger's: this
-- migration grants nothing on them. The operator grants, per registered table,
--
--   GRANT USAGE ON SCHEMA core TO syncledger_worker;
--   GRANT SELECT, INSERT, UPDATE ON core.person TO syncledger_worker;
--
-- (SELECT to read current values, INSERT to create records, UPDATE to write
-- values and to lock rows with FOR NO KEY UPDATE). Stewards need nothing on
-- target tables: certify, reject, revoke and current_value are SECURITY
-- DEFINER and act with the privileges of the role that ran the migrations,
-- which must therefore be able to SELECT and UPDATE the target tables.
--
-- Roles are cluster-wide, unlike everything else here: every database of the
-- cluster that runs this migration shares them, and two may run it at the
-- same moment. Creating them is idempotent and tolerates that race. Creating
-- a role needs CREATEROLE; a DBA who does not want the migrating role to hold
-- it creates the five roles beforehand (CREATE ROLE ... NOLOGIN), and then
-- this migration creates nothing and needs no CREATEROLE.
--
-- Grants are on the objects that exist now. A later migration that adds a
-- table, view or function grants on it itself.
--
-- Identity columns: inserting into a table with a GENERATED ... AS IDENTITY
-- column needs no privilege on its sequence (PostgreSQL does not check it),
-- so no sequence is granted to anybody.

-- ---------------------------------------------------------------------------
-- Roles
-- ---------------------------------------------------------------------------

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT * FROM (VALUES
      ('syncledger_upstream',
       'syncledger: upstream systems; members submit inbound jobs and items for their own source system (integration.source_system.login_role)'),
      ('syncledger_connector',
       'syncledger: outbound connectors; members claim and acknowledge the outbound jobs of their own source system'),
      ('syncledger_worker',
       'syncledger: the worker; also needs SELECT, INSERT, UPDATE on each registered target table'),
      ('syncledger_steward',
       'syncledger: data stewards; read everything, change the ledger only through integration.certify/reject/revoke'),
      ('syncledger_admin',
       'syncledger: administrators; write the configuration tables, read everything else')
    ) AS v(role_name, note)
  LOOP
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r.role_name) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', r.role_name);
        EXECUTE format('COMMENT ON ROLE %I IS %L', r.role_name, r.note);
      EXCEPTION
        -- Another database's migration created it meanwhile: duplicate_object
        -- if it had committed before our CREATE ROLE, unique_violation (on
        -- pg_authid's name index) if we had to wait for it to commit.
        WHEN duplicate_object OR unique_violation THEN
          NULL;
      END;
    END IF;
  END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Who speaks for which source system
-- ---------------------------------------------------------------------------

-- my_source_systems(): the source systems whose login_role is the calling
-- role. The row-level security policies below call it with no argument, so
-- p_role is the current_user of the query being checked (a default is
-- evaluated where the function is called, not inside it).
--
-- SECURITY DEFINER so that upstream roles need no privilege on
-- integration.source_system. Because p_role can also be passed explicitly,
-- the function answers only for roles the session could act as anyway
-- (its session user, or a role that user may SET ROLE to); for any other
-- role it answers with an empty array rather than reveal another system's
-- mapping.
--
-- Cost: the policies call it as an uncorrelated scalar subquery,
-- (SELECT integration.my_source_systems()), which PostgreSQL evaluates once
-- per statement (an InitPlan), not once per row.
CREATE FUNCTION integration.my_source_systems(p_role name DEFAULT current_user)
RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(array_agg(s.source_system_key ORDER BY s.source_system_key), '{}')
    FROM integration.source_system s
   WHERE s.login_role = p_role
     AND pg_has_role(session_user, p_role, 'MEMBER')
$$;
COMMENT ON FUNCTION integration.my_source_systems(name) IS
  'Source systems whose login_role is the calling role (or p_role, if the session may act as it); used by row-level security.';

REVOKE EXECUTE ON FUNCTION integration.my_source_systems(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION integration.my_source_systems(name) TO syncledger_upstream, syncledger_connector;

-- ---------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------

GRANT USAGE ON SCHEMA integration
  TO syncledger_upstream, syncledger_connector, syncledger_worker, syncledger_steward, syncledger_admin;

-- Stewards and administrators read everything: tables, views and the
-- migration record. ALL TABLES includes views; it is a snapshot of what
-- exists now.
GRANT SELECT ON ALL TABLES IN SCHEMA integration TO syncledger_steward, syncledger_admin;

-- Administrators: the configuration. Not TRUNCATE, and not TRIGGER: a trigger
-- an administrator created would run with the privileges of whoever writes
-- the table next.
GRANT SELECT, INSERT, UPDATE, DELETE ON
  integration.source_system,
  integration.target_table,
  integration.app_user,
  integration.commit_policy,
  integration.value_map,
  integration.subscription
TO syncledger_admin;

-- Stewards act on the ledger only through these functions (SECURITY
-- DEFINER, so they need no privilege to write the ledger, the items, the
-- jobs or the target tables themselves). current_value is what the views
-- review_queue, stale_values and field_provenance call; a view's function
-- calls are checked against the role reading the view. Administrators
-- requeue failed items after fixing a mapping (SPEC §2) and read the views.
GRANT EXECUTE ON FUNCTION
  integration.certify(bigint, text, text, boolean),
  integration.reject(bigint, text, text),
  integration.revoke(bigint, text, text),
  integration.requeue_failed(bigint),
  integration.current_value(text, uuid, text),
  integration.provenance_violations()
TO syncledger_steward;
GRANT EXECUTE ON FUNCTION
  integration.requeue_failed(bigint),
  integration.current_value(text, uuid, text),
  integration.provenance_violations()
TO syncledger_admin;

-- The worker: exactly what Sources/SyncLedger/Worker reads and writes.
--   configuration   read once per job (not app_user: the worker never acts
--                   as a person)
--   sync_job        claim, heartbeat, fence (FOR SHARE needs UPDATE), finish;
--                   INSERT for the outbound jobs enqueue_outbound opens
--   sync_item       load, record results; INSERT for outbound items
--   identifier      the crosswalk: look up, create, bump last_seen_at
--   ledger          INSERT new entries; UPDATE of confirmed_at only (the
--                   staleness clock). The append-only trigger lets an UPDATE
--                   marked 'worker' change status too, so the column grant is
--                   what keeps a worker from certifying anything.
--   ledger_event    INSERT the policy's certification events
--   schema_migration  the worker waits until the migrations it needs are
--                   recorded. The table is created by `syncledger migrate`
--                   before the first migration; a database migrated with
--                   plain psql has none, hence the condition.
GRANT SELECT ON
  integration.source_system,
  integration.target_table,
  integration.commit_policy,
  integration.value_map,
  integration.subscription
TO syncledger_worker;
GRANT SELECT, INSERT, UPDATE ON integration.sync_job, integration.sync_item, integration.identifier
  TO syncledger_worker;
GRANT SELECT, INSERT ON integration.ledger, integration.ledger_event TO syncledger_worker;
GRANT UPDATE (confirmed_at) ON integration.ledger TO syncledger_worker;

DO $$
BEGIN
  IF to_regclass('integration.schema_migration') IS NOT NULL THEN
    GRANT SELECT ON integration.schema_migration TO syncledger_worker;
  END IF;
END
$$;

-- check_values and the outbound functions are SECURITY INVOKER and, as
-- created, executable by PUBLIC: what they may do is decided by the caller's
-- table privileges and the policies below (an upstream calling
-- enqueue_outbound is refused by them). They are granted explicitly anyway,
-- so that a DBA who revokes EXECUTE from PUBLIC schema-wide does not break
-- the worker or the connectors.
GRANT EXECUTE ON FUNCTION
  integration.check_values(regclass, name, text[]),
  integration.enqueue_outbound(bigint[]),
  integration.enqueue_outbound_values(integration.outbound_value[]),
  integration.enqueue_outbound_value(text, uuid, text, text, text, text, bigint),
  integration.referenced_table(text, text)
TO syncledger_worker;
GRANT EXECUTE ON FUNCTION
  integration.claim_outbound(text, text, integer),
  integration.ack_outbound(bigint, text)
TO syncledger_connector;

-- Upstream systems: read their jobs and items (rows limited by the policies
-- below), insert them through the input columns only, and flip job_status
-- (Draft → Submitted; the policy allows nothing else). The result and lease
-- columns (item_status, process_message, lease_owner, attempts, counts, ...)
-- are not insertable, so an upstream cannot forge results or claim a job.
GRANT SELECT ON integration.sync_job, integration.sync_item TO syncledger_upstream;
GRANT INSERT (source_system_key, direction, entity_type, job_status, job_key, priority)
  ON integration.sync_job TO syncledger_upstream;
GRANT UPDATE (job_status) ON integration.sync_job TO syncledger_upstream;
GRANT INSERT (job_id, seq, external_key, target_table, operation, field_name, new_value, source_timestamp, target_id)
  ON integration.sync_item TO syncledger_upstream;

-- Connectors: what claim_outbound and ack_outbound write, plus last_error,
-- run_after and process_message so that a connector can hand back or defer a
-- job it could not deliver. Only on their own outbound rows (policies below).
-- `syncledger outbound next` first checks that the source system it is asked
-- for exists and is active: the key and is_active columns, not login_role.
GRANT SELECT ON integration.sync_job, integration.sync_item TO syncledger_connector;
GRANT SELECT (source_system_key, is_active) ON integration.source_system TO syncledger_connector;
GRANT UPDATE (job_status, started_at, finished_at, attempts, lease_owner, lease_expires_at, run_after, last_error,
              items_total, items_applied, items_held, items_skipped, items_failed)
  ON integration.sync_job TO syncledger_connector;
GRANT UPDATE (item_status, applied_at, process_message) ON integration.sync_item TO syncledger_connector;

-- ---------------------------------------------------------------------------
-- Row-level security on the staging tables
-- ---------------------------------------------------------------------------

-- With row-level security enabled, a role sees and changes only the rows some
-- policy of its own allows: policies of one command are OR-ed, and a role
-- with no policy sees no rows at all (a monitoring role granted SELECT before
-- this migration now reads empty tables: give it a policy or one of the
-- roles above). Not affected: the tables' owner (the role that ran the
-- migrations; FORCE ROW LEVEL SECURITY is deliberately not set, so the
-- SECURITY DEFINER steward functions and foreign-key checks, which run as the
-- owner, see every row), superusers and roles with BYPASSRLS.
--
-- The worker, stewards and administrators get policies that are plain
-- `true`: the planner drops a constant-true qual, so the worker's claim,
-- load and write statements get the same plans and indexes as without
-- row-level security. The upstream and connector policies are
-- `source_system_key = ANY (<once-per-statement array>)` on sync_job and an
-- EXISTS probe of sync_job's primary key on sync_item.
--
-- Membership is inherited: a login role that is a member of
-- syncledger_worker (or steward, admin) is unrestricted here even if it is
-- also an upstream. Login roles must INHERIT (the default) for the group
-- roles' policies and grants to apply to them.

ALTER TABLE integration.sync_job ENABLE ROW LEVEL SECURITY;
ALTER TABLE integration.sync_item ENABLE ROW LEVEL SECURITY;

CREATE POLICY sync_job_worker ON integration.sync_job
  FOR ALL TO syncledger_worker USING (true) WITH CHECK (true);
CREATE POLICY sync_job_read_all ON integration.sync_job
  FOR SELECT TO syncledger_steward, syncledger_admin USING (true);

CREATE POLICY sync_item_worker ON integration.sync_item
  FOR ALL TO syncledger_worker USING (true) WITH CHECK (true);
CREATE POLICY sync_item_read_all ON integration.sync_item
  FOR SELECT TO syncledger_steward, syncledger_admin USING (true);

-- Upstream: its own jobs, in either direction (its outbound jobs hold data
-- addressed to it anyway).
CREATE POLICY sync_job_upstream_read_own ON integration.sync_job
  FOR SELECT TO syncledger_upstream
  USING (source_system_key = ANY ((SELECT integration.my_source_systems())::text[]));

-- Upstream: new inbound jobs for its own source, as Draft or Submitted.
CREATE POLICY sync_job_upstream_submit_own ON integration.sync_job
  FOR INSERT TO syncledger_upstream
  WITH CHECK (source_system_key = ANY ((SELECT integration.my_source_systems())::text[])
              AND direction = 'Inbound'
              AND job_status IN ('Draft', 'Submitted'));

-- Upstream: its own Draft inbound jobs may become Submitted (the only column
-- it may update is job_status). Other jobs are not matched by USING, so an
-- UPDATE of them changes no row.
CREATE POLICY sync_job_upstream_release_draft ON integration.sync_job
  FOR UPDATE TO syncledger_upstream
  USING (source_system_key = ANY ((SELECT integration.my_source_systems())::text[])
         AND direction = 'Inbound' AND job_status = 'Draft')
  WITH CHECK (source_system_key = ANY ((SELECT integration.my_source_systems())::text[])
              AND direction = 'Inbound' AND job_status IN ('Draft', 'Submitted'));

-- Upstream: the items of its own jobs.
CREATE POLICY sync_item_upstream_read_own ON integration.sync_item
  FOR SELECT TO syncledger_upstream
  USING (EXISTS (SELECT FROM integration.sync_job j
                  WHERE j.job_id = sync_item.job_id
                    AND j.source_system_key = ANY ((SELECT integration.my_source_systems())::text[])));

-- Upstream: new items only in its own inbound jobs that no worker has started
-- yet (Draft, or Submitted and never claimed: started_at is set by the first
-- claim and kept after a release or a requeue). Inserting the job and its
-- items in one transaction, the usual way, always qualifies. Adding items to
-- a job that was committed as Submitted races with a worker claiming it; stage
-- such jobs as Draft and submit them when complete.
CREATE POLICY sync_item_upstream_submit_own ON integration.sync_item
  FOR INSERT TO syncledger_upstream
  WITH CHECK (item_status = 'Pending'
              AND EXISTS (SELECT FROM integration.sync_job j
                           WHERE j.job_id = sync_item.job_id
                             AND j.source_system_key = ANY ((SELECT integration.my_source_systems())::text[])
                             AND j.direction = 'Inbound'
                             AND j.job_status IN ('Draft', 'Submitted')
                             AND j.started_at IS NULL));

-- Connectors: the outbound jobs of their own source, and those jobs' items,
-- to read, claim and acknowledge. claim_outbound and ack_outbound are
-- SECURITY INVOKER, so these policies are what keeps a connector from
-- claiming another system's outbound job: it is simply not found.
CREATE POLICY sync_job_connector_own_outbound ON integration.sync_job
  FOR SELECT TO syncledger_connector
  USING (source_system_key = ANY ((SELECT integration.my_source_systems())::text[]) AND direction = 'Outbound');
CREATE POLICY sync_job_connector_deliver_own ON integration.sync_job
  FOR UPDATE TO syncledger_connector
  USING (source_system_key = ANY ((SELECT integration.my_source_systems())::text[]) AND direction = 'Outbound')
  WITH CHECK (source_system_key = ANY ((SELECT integration.my_source_systems())::text[]) AND direction = 'Outbound');

CREATE POLICY sync_item_connector_own_outbound ON integration.sync_item
  FOR SELECT TO syncledger_connector
  USING (EXISTS (SELECT FROM integration.sync_job j
                  WHERE j.job_id = sync_item.job_id
                    AND j.source_system_key = ANY ((SELECT integration.my_source_systems())::text[])
                    AND j.direction = 'Outbound'));
CREATE POLICY sync_item_connector_deliver_own ON integration.sync_item
  FOR UPDATE TO syncledger_connector
  USING (EXISTS (SELECT FROM integration.sync_job j
                  WHERE j.job_id = sync_item.job_id
                    AND j.source_system_key = ANY ((SELECT integration.my_source_systems())::text[])
                    AND j.direction = 'Outbound'))
  WITH CHECK (EXISTS (SELECT FROM integration.sync_job j
                       WHERE j.job_id = sync_item.job_id
                         AND j.source_system_key = ANY ((SELECT integration.my_source_systems())::text[])
                         AND j.direction = 'Outbound'));
