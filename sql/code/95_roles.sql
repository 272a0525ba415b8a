-- roles.sql — database roles, privileges and row-level security (SPEC §6),
-- all of them: this file is the whole answer to "who may do what".
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
--   syncledger_worker     `syncledger worker`: processes inbound jobs, only
--                         through the SECURITY DEFINER functions of jobs.sql
--                         and aspects.sql, which check its claim token and
--                         its decisions; it writes no table directly.
--   syncledger_steward    reads everything; changes ledger state only through
--                         certify / reject / revoke / requeue_failed.
--   syncledger_admin      the configuration tables; reads everything else;
--                         requeue_failed after fixing a value map; acts for
--                         other users (SPEC §3, Who acts); prunes.
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
-- file grants nothing on them. The functions that read and write them
-- (the worker's chunk functions, the steward functions, current_value) are
-- SECURITY DEFINER and act with the privileges of the role that ran the
-- migrations, which must therefore be able to SELECT, INSERT and UPDATE the
-- registered target tables.
--
-- Roles are cluster-wide, unlike everything else here: every database of the
-- cluster that runs this file shares them, and two may run it at the same
-- moment. Creating them is idempotent and tolerates that race. Creating a
-- role needs CREATEROLE; a DBA who does not want the migrating role to hold
-- it creates the five roles beforehand (CREATE ROLE ... NOLOGIN), and then
-- this file creates nothing and needs no CREATEROLE.
--
-- How the privileges are kept exact: every privilege on the schema's tables,
-- sequences and functions is first revoked from PUBLIC and the five roles,
-- then granted again as written below, in the same transaction. So this file
-- is the whole truth, whatever an earlier version granted; grants to other
-- roles (a monitoring login, say) are left alone.
--
-- Identity columns: inserting into a table with a GENERATED ... AS IDENTITY
-- column needs no privilege on its sequence (PostgreSQL does not check it).

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
-- Privileges: start from none
-- ---------------------------------------------------------------------------

REVOKE ALL ON ALL TABLES IN SCHEMA integration
  FROM PUBLIC, syncledger_upstream, syncledger_connector, syncledger_worker, syncledger_steward, syncledger_admin;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA integration
  FROM PUBLIC, syncledger_upstream, syncledger_connector, syncledger_worker, syncledger_steward, syncledger_admin;
REVOKE ALL ON ALL ROUTINES IN SCHEMA integration
  FROM PUBLIC, syncledger_upstream, syncledger_connector, syncledger_worker, syncledger_steward, syncledger_admin;

GRANT USAGE ON SCHEMA integration
  TO syncledger_upstream, syncledger_connector, syncledger_worker, syncledger_steward, syncledger_admin;

-- ---------------------------------------------------------------------------
-- Stewards and administrators
-- ---------------------------------------------------------------------------

-- They read everything: tables, views and the migration record.
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
  integration.subscription,
  integration.match_rule
TO syncledger_admin;

-- Stewards act on the ledger only through these functions (SECURITY
-- DEFINER: they need no privilege to write the ledger, the items, the jobs,
-- the crosswalk or the target tables themselves); merge, unmerge and
-- dismiss_suspect resolve duplicates (identity.sql), match_preview is
-- `syncledger match --dry-run`. Administrators call them too, to act for
-- another user (a service relaying a web form; both names are recorded), and
-- requeue failed items after fixing a mapping (SPEC §2).
GRANT EXECUTE ON FUNCTION
  integration.certify(bigint, text, text, boolean),
  integration.reject(bigint, text, text, text),
  integration.revoke(bigint, text, text),
  integration.open_batch(text, jsonb, text, text, text),
  integration.decide_batch(bigint, bigint, integer, integer, integer),
  integration.propose(text, uuid, text, text, text, text),
  integration.record_as_of(text, uuid, timestamptz),
  integration.explain(text, uuid, text),
  integration.requeue_failed(bigint),
  integration.merge(uuid, uuid, text, text),
  integration.unmerge(bigint, text, text),
  integration.dismiss_suspect(bigint, text, text),
  integration.match_preview(text, text[], integer)
TO syncledger_steward, syncledger_admin;
-- Decision batches a chunk per transaction: procedures that call
-- decide_batch (SECURITY INVOKER: a procedure that commits cannot be a
-- SECURITY DEFINER one).
GRANT EXECUTE ON PROCEDURE
  integration.run_batch(bigint, integer),
  integration.certify_where(jsonb, text, text, integer, bigint),
  integration.reject_where(jsonb, text, text, text, integer, bigint),
  integration.revoke_batch(bigint, text, text, integer, bigint)
TO syncledger_steward, syncledger_admin;

-- What the views (review_queue, stale_values, field_provenance,
-- aspect_owner) call: a view's function calls are checked against the role
-- reading the view. The queue's filter and counts. And the checks an
-- operator schedules.
GRANT EXECUTE ON FUNCTION
  integration.record_label(text, uuid),
  integration.shown_value(text, text, text, text),
  integration.referenced_table(text, text),
  integration.entry_hold_reason(boolean, text),
  integration.hold_sentence(text, text, text),
  integration.queue_filter(jsonb),
  integration.queue_matches(jsonb, text, text, text, boolean, text, timestamptz),
  integration.queue_counts(jsonb),
  integration.current_value(text, uuid, text),
  integration.target_holds(text, uuid, text, text, text),
  integration.owner_entry(text, uuid, text),
  integration.stale_clock(integration.ledger),
  integration.is_stale(timestamptz, integer, timestamptz),
  integration.aspect_policy(text, text, text),
  integration.job_item_counts(bigint[]),
  integration.verify_ledger(),
  integration.verify_log(),
  integration.ledger_anchor(),
  integration.provenance_violations(),
  integration.merkle_size(),
  integration.merkle_root(bigint),
  integration.merkle_subtrees(jsonb),
  integration.entry_proof(bigint, bigint),
  integration.record_fields(text, uuid, text[]),
  integration.match_normalise(text),
  integration.match_key_of(text, text[]),
  integration.match_keys_of(text, text[]),
  integration.match_similarity(text, text)
TO syncledger_steward, syncledger_admin;

-- Checkpoints of the Merkle log (`syncledger checkpoint`, and workers
-- started with --checkpoint-every).
GRANT EXECUTE ON FUNCTION integration.checkpoint(bigint) TO syncledger_admin, syncledger_worker;

-- Retention (`syncledger prune`), for administrators and for workers started
-- with --retention; SECURITY DEFINER: neither may delete jobs or items
-- directly. The crosswalk keys of one source for a snapshot submit.
GRANT EXECUTE ON FUNCTION
  integration.prune_jobs(interval, integer, boolean),
  integration.prune_preview(interval, boolean)
TO syncledger_admin, syncledger_worker;
GRANT EXECUTE ON FUNCTION integration.snapshot_keys(text, text, name) TO syncledger_upstream, syncledger_admin;
GRANT EXECUTE ON FUNCTION integration.add_staged_items(bigint, name), integration.insert_staged_items(bigint),
  integration.job_takes_upstream_items(integration.sync_job, text[])
  TO syncledger_upstream;
-- The value checks of a submitted file, before anything is submitted (the
-- code lists of a table's fields; whether given values map and cast).
GRANT EXECUTE ON FUNCTION
  integration.intake_code_lists(text),
  integration.check_values(text, text, jsonb, name)
TO syncledger_upstream, syncledger_admin;

-- ---------------------------------------------------------------------------
-- The worker
-- ---------------------------------------------------------------------------

-- It reads the configuration (not app_user: the worker never acts as a
-- person), the staging tables, the crosswalk and the ledger, and the
-- migration record (it waits until the migrations it needs are recorded);
-- it writes only through these functions.
GRANT SELECT ON
  integration.source_system,
  integration.target_table,
  integration.commit_policy,
  integration.value_map,
  integration.subscription,
  integration.config_version,
  integration.sync_job,
  integration.sync_item,
  integration.identifier,
  integration.ledger,
  integration.ledger_event,
  integration.ledger_chain,
  integration.source_order,
  integration.schema_migration
TO syncledger_worker;
GRANT EXECUTE ON FUNCTION
  integration.claim_jobs(text, uuid, integer, integer, integer),
  integration.heartbeat(uuid[], integer, jsonb),
  integration.transition_jobs(uuid, bigint[], text, text, integer, double precision),
  integration.expire_leases_of(text),
  integration.pending_items(bigint[], integer, bigint, bigint, integer),
  integration.job_item_counts(bigint[]),
  integration.prepare_chunk(uuid, bigint[], bigint, jsonb),
  integration.apply_chunk(uuid, bigint[], jsonb, jsonb)
TO syncledger_worker;
-- The registry of live workers (code/22_workers.sql): a worker writes only
-- its own state, through these functions. Who is running is no secret from
-- the fleet: workers read the registry too (status, the metrics).
GRANT EXECUTE ON FUNCTION
  integration.register_worker(jsonb, integer),
  integration.worker_heartbeat(jsonb, integer),
  integration.deregister_worker(text)
TO syncledger_worker;
GRANT SELECT ON integration.worker, integration.live_workers TO syncledger_worker;

-- ---------------------------------------------------------------------------
-- Upstream systems
-- ---------------------------------------------------------------------------

-- They read their jobs and items (rows limited by the policies below),
-- insert them through the input columns only, and flip job_status (Draft →
-- Submitted; the policy allows nothing else). The result and lease columns
-- (item_status, process_message, lease_owner, attempts, counts, ...) are not
-- insertable, so an upstream cannot forge results or claim a job.
-- `syncledger submit` checks a file's mapping against the registered tables
-- and the source systems' keys and active flags (not who logs in as which
-- system). Submitting a job takes the next submission number (sync_job's
-- submit_seq default, and the Draft → Submitted trigger, run as the upstream).
-- Nothing on integration.item_refusal: what the database said in full about
-- a refused item may quote other columns of the row (a trigger's message, a
-- constraint's DETAIL); the item's process_message names only the trigger or
-- constraint, the field and the SQLSTATE. Stewards and administrators read
-- it (SELECT on every table, above); the worker writes it in apply_chunk.
GRANT SELECT ON integration.sync_job, integration.sync_item, integration.target_table TO syncledger_upstream;
GRANT SELECT (source_system_key, is_active) ON integration.source_system TO syncledger_upstream;
GRANT INSERT (source_system_key, direction, entity_type, job_status, job_key, priority)
  ON integration.sync_job TO syncledger_upstream;
GRANT UPDATE (job_status) ON integration.sync_job TO syncledger_upstream;
GRANT INSERT (job_id, seq, external_key, target_table, operation, field_name, new_value, source_timestamp, target_id)
  ON integration.sync_item TO syncledger_upstream;
GRANT USAGE ON SEQUENCE integration.job_submit_seq TO syncledger_upstream;
GRANT EXECUTE ON FUNCTION integration.my_source_systems(name) TO syncledger_upstream, syncledger_connector;
-- The stewards' decisions on their own values (the view filters by
-- my_source_systems).
GRANT SELECT ON integration.my_decisions TO syncledger_upstream;
-- The progress of their open jobs (`syncledger status`): the one definition
-- of a job's counts, run as the upstream, so it counts only its own items.
GRANT EXECUTE ON FUNCTION integration.job_item_counts(bigint[]) TO syncledger_upstream;

-- ---------------------------------------------------------------------------
-- Connectors
-- ---------------------------------------------------------------------------

-- claim_outbound and ack_outbound run with the connector's own privileges
-- (the policies below keep it to its own system's jobs), plus last_error,
-- run_after and process_message so that a connector can hand back or defer a
-- job it could not deliver. Ending the claim is transition_jobs, which
-- checks the claim token. `syncledger outbound next` first checks that the
-- source system it is asked for exists and is active.
GRANT SELECT ON integration.sync_job, integration.sync_item TO syncledger_connector;
GRANT SELECT (source_system_key, is_active) ON integration.source_system TO syncledger_connector;
GRANT UPDATE (job_status, started_at, finished_at, attempts, lease_owner, claim_token, lease_expires_at, run_after,
              last_error, items_total, items_applied, items_held, items_skipped, items_failed)
  ON integration.sync_job TO syncledger_connector;
GRANT UPDATE (item_status, applied_at, process_message) ON integration.sync_item TO syncledger_connector;
GRANT EXECUTE ON FUNCTION
  integration.claim_outbound(text, text, integer),
  integration.ack_outbound(bigint, uuid),
  integration.job_for_action(bigint, text, text[], text, text),
  integration.job_status_after(text, text, integer, integer, integer),
  integration.transition_jobs(uuid, bigint[], text, text, integer, double precision),
  integration.job_item_counts(bigint[])
TO syncledger_connector;

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

DROP POLICY IF EXISTS sync_job_worker ON integration.sync_job;
CREATE POLICY sync_job_worker ON integration.sync_job
  FOR ALL TO syncledger_worker USING (true) WITH CHECK (true);

DROP POLICY IF EXISTS sync_job_read_all ON integration.sync_job;
CREATE POLICY sync_job_read_all ON integration.sync_job
  FOR SELECT TO syncledger_steward, syncledger_admin USING (true);

DROP POLICY IF EXISTS sync_item_worker ON integration.sync_item;
CREATE POLICY sync_item_worker ON integration.sync_item
  FOR ALL TO syncledger_worker USING (true) WITH CHECK (true);

DROP POLICY IF EXISTS sync_item_read_all ON integration.sync_item;
CREATE POLICY sync_item_read_all ON integration.sync_item
  FOR SELECT TO syncledger_steward, syncledger_admin USING (true);

-- Upstream: its own jobs, in either direction (its outbound jobs hold data
-- addressed to it anyway).
DROP POLICY IF EXISTS sync_job_upstream_read_own ON integration.sync_job;
CREATE POLICY sync_job_upstream_read_own ON integration.sync_job
  FOR SELECT TO syncledger_upstream
  USING (source_system_key = ANY ((SELECT integration.my_source_systems())::text[]));

-- Upstream: new inbound jobs for its own source, as Draft or Submitted.
DROP POLICY IF EXISTS sync_job_upstream_submit_own ON integration.sync_job;
CREATE POLICY sync_job_upstream_submit_own ON integration.sync_job
  FOR INSERT TO syncledger_upstream
  WITH CHECK (source_system_key = ANY ((SELECT integration.my_source_systems())::text[])
              AND direction = 'Inbound'
              AND job_status IN ('Draft', 'Submitted'));

-- Upstream: its own Draft inbound jobs may become Submitted (the only column
-- it may update is job_status). Other jobs are not matched by USING, so an
-- UPDATE of them changes no row.
DROP POLICY IF EXISTS sync_job_upstream_release_draft ON integration.sync_job;
CREATE POLICY sync_job_upstream_release_draft ON integration.sync_job
  FOR UPDATE TO syncledger_upstream
  USING (source_system_key = ANY ((SELECT integration.my_source_systems())::text[])
         AND direction = 'Inbound' AND job_status = 'Draft')
  WITH CHECK (source_system_key = ANY ((SELECT integration.my_source_systems())::text[])
              AND direction = 'Inbound' AND job_status IN ('Draft', 'Submitted'));

-- Upstream: the items of its own jobs.
DROP POLICY IF EXISTS sync_item_upstream_read_own ON integration.sync_item;
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
-- such jobs as Draft and submit them when complete. The rule is
-- job_takes_upstream_items (jobs.sql), which add_staged_items (intake.sql)
-- checks once per job for `submit`.
DROP POLICY IF EXISTS sync_item_upstream_submit_own ON integration.sync_item;
CREATE POLICY sync_item_upstream_submit_own ON integration.sync_item
  FOR INSERT TO syncledger_upstream
  WITH CHECK (item_status = 'Pending'
              AND EXISTS (SELECT FROM integration.sync_job j
                           WHERE j.job_id = sync_item.job_id
                             AND integration.job_takes_upstream_items(j, (SELECT integration.my_source_systems())::text[])));

-- Connectors: the outbound jobs of their own source, and those jobs' items,
-- to read, claim and acknowledge. claim_outbound and ack_outbound are
-- SECURITY INVOKER, so these policies are what keeps a connector from
-- claiming another system's outbound job: it is simply not found.
DROP POLICY IF EXISTS sync_job_connector_own_outbound ON integration.sync_job;
CREATE POLICY sync_job_connector_own_outbound ON integration.sync_job
  FOR SELECT TO syncledger_connector
  USING (source_system_key = ANY ((SELECT integration.my_source_systems())::text[]) AND direction = 'Outbound');

DROP POLICY IF EXISTS sync_job_connector_deliver_own ON integration.sync_job;
CREATE POLICY sync_job_connector_deliver_own ON integration.sync_job
  FOR UPDATE TO syncledger_connector
  USING (source_system_key = ANY ((SELECT integration.my_source_systems())::text[]) AND direction = 'Outbound')
  WITH CHECK (source_system_key = ANY ((SELECT integration.my_source_systems())::text[]) AND direction = 'Outbound');

DROP POLICY IF EXISTS sync_item_connector_own_outbound ON integration.sync_item;
CREATE POLICY sync_item_connector_own_outbound ON integration.sync_item
  FOR SELECT TO syncledger_connector
  USING (EXISTS (SELECT FROM integration.sync_job j
                  WHERE j.job_id = sync_item.job_id
                    AND j.source_system_key = ANY ((SELECT integration.my_source_systems())::text[])
                    AND j.direction = 'Outbound'));

DROP POLICY IF EXISTS sync_item_connector_deliver_own ON integration.sync_item;
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
