-- jobs.sql — the job lifecycle, defined once (SPEC §2, §4, §5): wake-up
-- notifications, submission order, the status rule, claims with fencing
-- tokens (inbound and outbound alike), the fence, heartbeat, the transitions
-- that end a claim, requeue, and the one definition of a job's item counts.
--
-- Every function below reads and writes the jobs and items it names through
-- indexes, and says so (enable_seqscan = off): the job and item tables grow
-- faster than their statistics, and a plan that scans them would cost more
-- with every job ever submitted. JIT is off with it: the penalty cost of a
-- refused scan would otherwise make PostgreSQL compile small statements.
--
-- The status rule
--   integration.job_status_after(status, event, ...) is the one place that
--   says which status an event leads to from which status; every statement
--   that changes job_status asks it, and an event it does not allow changes
--   nothing. The events: submit (Draft → Submitted, an upstream's UPDATE),
--   claim (a worker or connector takes the job), finish, ack (a connector
--   delivered an outbound job), retry, release, requeue.
--
-- Claims and fencing tokens
--   A claim stamps its jobs with a claim token (a uuid unique to that claim:
--   the worker generates one per claim, claim_outbound one per connector
--   claim). Every later statement about those jobs names the token, not the
--   worker: the fence, the heartbeat, and the transitions that end the
--   claim. Two claims never share a token, so no slot of any process, and
--   no connector, can act on a job that another claim holds, including
--   another slot of the same process after its own lease expired.
--   lease_owner still names the worker or connector, for people.
--
-- The fence
--   Every chunk transaction locks its jobs' rows FOR KEY SHARE, checking the
--   token. Claims lock candidates FOR UPDATE SKIP LOCKED, which conflicts with
--   KEY SHARE: a job is never taken over while a chunk of it is in flight, and
--   the rescuer simply skips it. The heartbeat and a steward's recount take
--   FOR NO KEY UPDATE, which does not conflict with KEY SHARE, so neither
--   waits for a chunk and neither can deadlock with one. The transitions that
--   end a claim first wait for chunks still in flight (wait_for_chunks).
--
--   SL040  sync job not found
--   SL041  sync job in the wrong direction or status for the action

-- ---------------------------------------------------------------------------
-- Submission
-- ---------------------------------------------------------------------------

-- One notification per job that becomes claimable, never one per item. The
-- payload is the job id; workers treat it only as a hint and also poll, so a
-- lost notification (or a transaction pooler) costs latency, not work.
-- The WHEN clauses keep the function from being called at all for the
-- updates of the worker's hot path (claims, finishes).
CREATE OR REPLACE FUNCTION integration.notify_job_submitted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('syncledger_job_submitted', NEW.job_id::text);
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER sync_job_notify_inserted
  AFTER INSERT ON integration.sync_job
  FOR EACH ROW WHEN (NEW.direction = 'Inbound' AND NEW.job_status = 'Submitted')
  EXECUTE FUNCTION integration.notify_job_submitted();

CREATE OR REPLACE TRIGGER sync_job_notify_submitted
  AFTER UPDATE OF job_status ON integration.sync_job
  FOR EACH ROW WHEN (NEW.direction = 'Inbound' AND NEW.job_status = 'Submitted' AND OLD.job_status <> 'Submitted')
  EXECUTE FUNCTION integration.notify_job_submitted();

-- Draft → Submitted: the job's age and its place in the submission order
-- count from now.
CREATE OR REPLACE FUNCTION integration.stamp_submitted_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.submitted_at := now();
  NEW.submit_seq   := nextval('integration.job_submit_seq');
  RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER sync_job_stamp_submitted_at
  BEFORE UPDATE OF job_status ON integration.sync_job
  FOR EACH ROW WHEN (OLD.job_status = 'Draft' AND NEW.job_status = 'Submitted')
  EXECUTE FUNCTION integration.stamp_submitted_at();

-- job_takes_upstream_items(job, sources): whether an upstream whose source
-- systems are `sources` may still add items to `job`: an inbound job of one
-- of them, Draft or Submitted, that no worker has started (started_at is set
-- by the first claim and kept after a release or a requeue). The one
-- statement of the rule: the upstream insert policy of sync_item (roles.sql,
-- per item) and add_staged_items (intake.sql, once per job) both ask it. One
-- SQL expression, so that PostgreSQL inlines it into the policy's check.
CREATE OR REPLACE FUNCTION integration.job_takes_upstream_items(j integration.sync_job, p_sources text[])
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT j.source_system_key = ANY (p_sources) AND j.direction = 'Inbound'
     AND j.job_status IN ('Draft', 'Submitted') AND j.started_at IS NULL
$$;

-- ---------------------------------------------------------------------------
-- An item's job
-- ---------------------------------------------------------------------------

-- Every item belongs to a job of sync_job: the rule of a foreign key from
-- sync_item.job_id, checked once per statement rather than once per row (a
-- foreign key's check of each row was more than half of what submitting a
-- file cost; see schema/008_item_job_reference.sql). The same locks as a
-- foreign key's: an INSERT (or COPY) locks the jobs of its items FOR KEY
-- SHARE, in job_id order, until it commits, so a job cannot be deleted
-- while items are added to it, and a job being deleted makes the insert
-- wait and then fail. Refused with SQLSTATE 23503 (foreign_key_violation):
-- items of a job that does not exist; deleting a job that still has items,
-- or truncating the jobs without their items; changing an item's or a
-- job's job_id. SECURITY DEFINER: the check sees every job, whatever the
-- inserting login may read.

-- check_item_jobs(): AFTER INSERT on sync_item, per statement.
CREATE OR REPLACE FUNCTION integration.check_item_jobs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  jobs    bigint[] := ARRAY(SELECT DISTINCT a.job_id FROM added a ORDER BY 1);
  locked  integer;
  missing bigint;
BEGIN
  IF cardinality(jobs) = 0 THEN
    RETURN NULL;
  END IF;
  SELECT count(*) INTO locked
    FROM (SELECT j.job_id FROM integration.sync_job j WHERE j.job_id = ANY (jobs) ORDER BY j.job_id FOR KEY SHARE) x;
  IF locked < cardinality(jobs) THEN
    SELECT min(u.id) INTO missing FROM unnest(jobs) AS u(id)
     WHERE NOT EXISTS (SELECT FROM integration.sync_job j WHERE j.job_id = u.id);
    RAISE EXCEPTION 'items of job % cannot be added: job % does not exist', missing, missing
      USING ERRCODE = 'foreign_key_violation',
            DETAIL = format('Key (job_id)=(%s) is not present in table "sync_job".', missing),
            HINT = 'Insert the job first, and give its items the job_id that its INSERT ... RETURNING job_id returns.';
  END IF;
  RETURN NULL;
END
$$;

-- check_jobs_deleted(): AFTER DELETE on sync_job, per statement: none of the
-- deleted jobs has an item left. At READ COMMITTED only: the check must see
-- items committed since the transaction began (after the deletion waited
-- for their inserts' locks), which a REPEATABLE READ or SERIALIZABLE
-- snapshot does not.
CREATE OR REPLACE FUNCTION integration.check_jobs_deleted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  kept bigint;
BEGIN
  IF NOT EXISTS (SELECT FROM gone) THEN
    RETURN NULL;
  END IF;
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'jobs are deleted at READ COMMITTED, not %', upper(current_setting('transaction_isolation'))
      USING ERRCODE = 'foreign_key_violation',
            HINT = 'At this isolation level the check that no item is left would not see items added meanwhile. '
                   'Delete jobs in a READ COMMITTED transaction, or let integration.prune_jobs remove finished ones.';
  END IF;
  SELECT min(g.job_id) INTO kept FROM gone g
   WHERE EXISTS (SELECT FROM integration.sync_item i WHERE i.job_id = g.job_id);
  IF kept IS NOT NULL THEN
    RAISE EXCEPTION 'job % cannot be deleted: it still has items', kept
      USING ERRCODE = 'foreign_key_violation',
            DETAIL = format('Key (job_id)=(%s) is still referenced from table "sync_item".', kept),
            HINT = 'Delete its items first; integration.prune_jobs removes finished jobs with their items.';
  END IF;
  RETURN NULL;
END
$$;

-- check_jobs_truncated(): AFTER TRUNCATE on sync_job: only with the items
-- (TRUNCATE integration.sync_job, integration.sync_item).
CREATE OR REPLACE FUNCTION integration.check_jobs_truncated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
BEGIN
  IF EXISTS (SELECT FROM integration.sync_item) THEN
    RAISE EXCEPTION 'sync_job cannot be truncated without sync_item: its items would be left without their jobs'
      USING ERRCODE = 'foreign_key_violation',
            HINT = 'TRUNCATE integration.sync_job, integration.sync_item together.';
  END IF;
  RETURN NULL;
END
$$;

-- refuse_job_id_change(): an item's job, and a job's id, never change.
CREATE OR REPLACE FUNCTION integration.refuse_job_id_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'sync_item' THEN
    RAISE EXCEPTION 'item % stays in job %: an item''s job never changes', to_jsonb(OLD)->>'item_id', OLD.job_id
      USING ERRCODE = 'foreign_key_violation', HINT = 'Submit the items again, as items of the other job.';
  END IF;
  RAISE EXCEPTION 'job % keeps its job_id', OLD.job_id
    USING ERRCODE = 'foreign_key_violation', HINT = 'A job''s id never changes: its items, its ledger entries and its upstream refer to it.';
END
$$;

CREATE OR REPLACE TRIGGER sync_item_job_exists
  AFTER INSERT ON integration.sync_item
  REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION integration.check_item_jobs();

CREATE OR REPLACE TRIGGER sync_item_job_fixed
  BEFORE UPDATE OF job_id ON integration.sync_item
  FOR EACH ROW WHEN (OLD.job_id IS DISTINCT FROM NEW.job_id)
  EXECUTE FUNCTION integration.refuse_job_id_change();

CREATE OR REPLACE TRIGGER sync_job_id_fixed
  BEFORE UPDATE OF job_id ON integration.sync_job
  FOR EACH ROW WHEN (OLD.job_id IS DISTINCT FROM NEW.job_id)
  EXECUTE FUNCTION integration.refuse_job_id_change();

CREATE OR REPLACE TRIGGER sync_job_items_gone
  AFTER DELETE ON integration.sync_job
  REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION integration.check_jobs_deleted();

CREATE OR REPLACE TRIGGER sync_job_truncated_with_items
  AFTER TRUNCATE ON integration.sync_job
  FOR EACH STATEMENT EXECUTE FUNCTION integration.check_jobs_truncated();

-- ---------------------------------------------------------------------------
-- The status rule and the counts
-- ---------------------------------------------------------------------------

-- job_status_after(status, event, failed, attempts, max_attempts): the status
-- a job in `status` gets from `event`, or NULL when the event does not apply
-- to a job in that status. failed: the job's failed items (finish, ack);
-- attempts and max_attempts: its claims so far and the limit (retry).
CREATE OR REPLACE FUNCTION integration.job_status_after(
  p_status text, p_event text, p_failed integer DEFAULT 0, p_attempts integer DEFAULT 0, p_max_attempts integer DEFAULT 1)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN p_event = 'submit'  AND p_status = 'Draft' THEN 'Submitted'
    WHEN p_event = 'claim'   AND p_status IN ('Submitted', 'Processing') THEN 'Processing'
    WHEN p_event IN ('finish', 'ack') AND p_status = 'Processing'
      THEN CASE WHEN p_failed > 0 THEN 'CompletedWithErrors' ELSE 'Completed' END
    WHEN p_event = 'retry'   AND p_status = 'Processing'
      THEN CASE WHEN p_attempts >= p_max_attempts THEN 'Failed' ELSE 'Submitted' END
    WHEN p_event = 'release' AND p_status = 'Processing' THEN 'Submitted'
    WHEN p_event = 'requeue' AND p_status IN ('Completed', 'CompletedWithErrors', 'Failed') THEN 'Submitted'
  END
$$;

-- job_item_counts(jobs): the one definition of a job's counts, from its
-- items. Every transition stores these, and so does a steward action that
-- changes an item of a finished job (recount_jobs).
CREATE OR REPLACE FUNCTION integration.job_item_counts(p_jobs bigint[])
RETURNS TABLE (job_id bigint, total integer, applied integer, held integer, skipped integer, failed integer, pending integer)
LANGUAGE sql STABLE AS $$
  SELECT j.job_id,
         count(i.item_id)::integer,
         (count(*) FILTER (WHERE i.item_status = 'Applied'))::integer,
         (count(*) FILTER (WHERE i.item_status = 'Held'))::integer,
         (count(*) FILTER (WHERE i.item_status = 'Skipped'))::integer,
         (count(*) FILTER (WHERE i.item_status = 'Failed'))::integer,
         (count(*) FILTER (WHERE i.item_status = 'Pending'))::integer
    FROM unnest(p_jobs) AS j(job_id)
    -- = ANY as well: a join on job_id alone may be planned as a merge join
    -- that reads the index from the oldest job on.
    LEFT JOIN integration.sync_item i ON i.job_id = j.job_id AND i.job_id = ANY (p_jobs)
   GROUP BY j.job_id
$$;

-- recount_jobs(jobs): stores the true counts of the finished jobs among
-- `jobs`, after an action changed the status of some of their items (a
-- steward certifying a held item). The job rows are locked first, FOR NO KEY
-- UPDATE: a transition ending the job's claim (which locks FOR UPDATE) then
-- either finished before (the count below sees its status) or waits for this
-- transaction and counts after it. Either way the stored counts are true,
-- whichever commits first (SPEC §2: a job's counts are always true).
CREATE OR REPLACE FUNCTION integration.recount_jobs(p_jobs bigint[])
RETURNS void
LANGUAGE sql
SET enable_seqscan = off SET jit = off
AS $$
  SELECT FROM integration.sync_job j WHERE j.job_id = ANY (p_jobs) ORDER BY j.job_id FOR NO KEY UPDATE;
  UPDATE integration.sync_job j
     SET items_total = c.total, items_applied = c.applied, items_held = c.held, items_skipped = c.skipped,
         items_failed = c.failed
    FROM integration.job_item_counts(p_jobs) c
   WHERE j.job_id = c.job_id AND j.job_status IN ('Completed', 'CompletedWithErrors', 'Failed');
$$;

-- ---------------------------------------------------------------------------
-- Claims
-- ---------------------------------------------------------------------------

-- claim_jobs(worker, token, lease, max_jobs, item_budget): claims ready inbound
-- jobs — Submitted ones whose run_after has passed, and Processing ones whose
-- lease expired — by priority, then age, in one statement. It takes up to
-- max_jobs of them while their pending items add up to at most item_budget
-- (each counted up to the budget), and always at least one: many small jobs
-- are claimed together, a large one alone. Returns the claimed jobs in
-- submission order, each with the lease owner it was rescued from (NULL when
-- it was Submitted).
CREATE OR REPLACE FUNCTION integration.claim_jobs(
  p_worker        text,
  p_token         uuid,
  p_lease_seconds integer,
  p_max_jobs      integer DEFAULT 1,
  p_item_budget   integer DEFAULT 1000)
RETURNS TABLE (job_id bigint, source_system_key text, entity_type text, attempts integer, submit_seq bigint,
               rescued_from text, last_error text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_seqscan = off SET jit = off
AS $$
BEGIN
  IF p_token IS NULL OR p_worker IS NULL OR btrim(p_worker) = '' THEN
    RAISE EXCEPTION 'claim_jobs needs a worker name and a claim token' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY
  WITH candidate AS (
    SELECT j.job_id, j.priority, j.submitted_at,
           CASE WHEN j.job_status = 'Processing' THEN coalesce(j.lease_owner, '') END AS was_owner
      FROM integration.sync_job j
     WHERE j.direction = 'Inbound'
       AND j.job_status IN ('Submitted', 'Processing')
       AND ((j.job_status = 'Submitted' AND (j.run_after IS NULL OR j.run_after <= now()))
         OR (j.job_status = 'Processing' AND j.lease_expires_at < now()))
     ORDER BY j.priority DESC, j.submitted_at, j.job_id
     LIMIT greatest(p_max_jobs, 1)
       FOR UPDATE SKIP LOCKED
  ), sized AS (
    SELECT c.job_id, c.was_owner,
           row_number() OVER w AS rn,
           sum(p.n) OVER w AS running
      FROM candidate c
     CROSS JOIN LATERAL (
           SELECT count(*) AS n
             FROM (SELECT 1 FROM integration.sync_item i
                    WHERE i.job_id = c.job_id AND i.item_status = 'Pending'
                    LIMIT greatest(p_item_budget, 1)) x) p
    WINDOW w AS (ORDER BY c.priority DESC, c.submitted_at, c.job_id)
  ), chosen AS (
    SELECT s.job_id, s.was_owner FROM sized s WHERE s.rn = 1 OR s.running <= p_item_budget
  ), claimed AS (
    UPDATE integration.sync_job j
       SET job_status       = integration.job_status_after(j.job_status, 'claim'),
           started_at       = coalesce(j.started_at, now()),
           attempts         = j.attempts + 1,
           lease_owner      = p_worker,
           claim_token      = p_token,
           lease_expires_at = now() + make_interval(secs => p_lease_seconds)
      FROM chosen
     WHERE j.job_id = chosen.job_id
    RETURNING j.job_id, j.source_system_key, j.entity_type, j.attempts, j.submit_seq, chosen.was_owner, j.last_error
  )
  SELECT * FROM claimed ORDER BY claimed.submit_seq, claimed.job_id;
END
$$;

-- claim_outbound(source, owner, lease_seconds): for connectors, the oldest
-- claimable Outbound job of that system (Submitted, or Processing with an
-- expired lease, and not deferred by run_after), now Processing under a new
-- claim token and owner's lease; the returned row carries the token, which
-- ack_outbound checks. Empty when there is none. SKIP LOCKED lets several
-- connector instances claim side by side without waiting for each other.
CREATE OR REPLACE FUNCTION integration.claim_outbound(
  p_source        text,
  p_owner         text,
  p_lease_seconds integer DEFAULT 300)
RETURNS SETOF integration.sync_job
LANGUAGE plpgsql
SET enable_seqscan = off SET jit = off
AS $$
BEGIN
  IF p_owner IS NULL OR btrim(p_owner) = '' THEN
    RAISE EXCEPTION 'claim_outbound needs a lease owner'
      USING ERRCODE = 'invalid_parameter_value';
  ELSIF p_lease_seconds IS NULL OR p_lease_seconds <= 0 THEN
    RAISE EXCEPTION 'lease of % seconds: it must be positive', coalesce(p_lease_seconds::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  RETURN QUERY
  WITH next_job AS (
    SELECT j.job_id
      FROM integration.sync_job j
     WHERE j.direction = 'Outbound'
       AND j.source_system_key = p_source
       AND j.job_status IN ('Draft', 'Submitted', 'Processing')
       AND (j.job_status = 'Submitted'
            OR (j.job_status = 'Processing' AND j.lease_expires_at < now()))
       AND (j.run_after IS NULL OR j.run_after <= now())
     ORDER BY j.submitted_at, j.job_id
     LIMIT 1
       FOR UPDATE SKIP LOCKED
  )
  UPDATE integration.sync_job j
     SET job_status       = integration.job_status_after(j.job_status, 'claim'),
         lease_owner      = p_owner,
         claim_token      = gen_random_uuid(),
         lease_expires_at = now() + make_interval(secs => p_lease_seconds),
         attempts         = j.attempts + 1,
         started_at       = now()
    FROM next_job
   WHERE j.job_id = next_job.job_id
  RETURNING j.*;
END
$$;

-- fence_chunk(token, jobs): inside a chunk transaction, locks the jobs' rows
-- FOR KEY SHARE while the token still holds them (SPEC §5, fencing), or
-- raises SL060 naming the jobs it no longer holds and who holds them now: a
-- chunk whose claim lost any of its jobs writes nothing.
CREATE OR REPLACE FUNCTION integration.fence_chunk(p_token uuid, p_jobs bigint[])
RETURNS void
LANGUAGE plpgsql
SET enable_seqscan = off SET jit = off
AS $$
DECLARE
  fenced bigint[];
BEGIN
  SELECT coalesce(array_agg(f.job_id ORDER BY f.job_id), '{}') INTO fenced
    FROM (SELECT j.job_id FROM integration.sync_job j
           WHERE j.job_id = ANY (p_jobs) AND j.claim_token = p_token AND j.job_status = 'Processing'
           ORDER BY j.job_id
             FOR KEY SHARE) f;
  IF cardinality(fenced) < (SELECT count(DISTINCT j) FROM unnest(p_jobs) j) THEN
    RAISE EXCEPTION 'the claim no longer holds job(s) %',
                    (SELECT string_agg(format('%s (%s)', j.job_id,
                                              CASE WHEN j.job_status = 'Processing' THEN 'now leased to ' || j.lease_owner
                                                   ELSE j.job_status END), ', ' ORDER BY j.job_id)
                       FROM integration.sync_job j WHERE j.job_id = ANY (p_jobs) AND j.job_id <> ALL (fenced))
      USING ERRCODE = 'SL060';
  END IF;
END
$$;

-- heartbeat(tokens, lease, progress): extends the leases of every job the
-- claims still hold; returns the tokens that hold at least one job. With
-- progress (a JSON array of {job_id, items_done, items_total,
-- items_per_second}, one per job its worker has news of), records each
-- running job's progress in the same UPDATE: the write a heartbeat makes
-- anyway, so progress costs no statement and no row version of its own.
CREATE OR REPLACE FUNCTION integration.heartbeat(p_tokens uuid[], p_lease_seconds integer, p_progress jsonb DEFAULT NULL)
RETURNS uuid[]
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_seqscan = off SET jit = off
AS $$
  WITH progress AS (
    SELECT p.job_id, p.items_done, p.items_total, p.items_per_second
      FROM jsonb_to_recordset(coalesce(p_progress, '[]'::jsonb))
           AS p(job_id bigint, items_done integer, items_total integer, items_per_second real)
  ), renewed AS (
    UPDATE integration.sync_job j
       SET lease_expires_at = now() + make_interval(secs => p_lease_seconds),
           items_done       = coalesce(r.items_done, j.items_done),
           items_total      = coalesce(r.items_total, j.items_total),
           items_per_second = coalesce(r.items_per_second, j.items_per_second),
           progress_at      = CASE WHEN r.reported THEN now() ELSE j.progress_at END
      FROM (SELECT h.job_id, p.job_id IS NOT NULL AS reported, p.items_done, p.items_total, p.items_per_second
              FROM integration.sync_job h
              LEFT JOIN progress p ON p.job_id = h.job_id
             WHERE h.claim_token = ANY (p_tokens) AND h.job_status = 'Processing') AS r
     WHERE j.job_id = r.job_id AND j.claim_token = ANY (p_tokens) AND j.job_status = 'Processing'
    RETURNING j.claim_token
  )
  SELECT coalesce(array_agg(DISTINCT r.claim_token), '{}') FROM renewed r
$$;

-- expire_leases_of(worker): a worker that starts again under the same
-- (stable) worker id ends the leases its previous run left behind: that run
-- is gone (systemd runs one process per unit), so its jobs are rescued at
-- once instead of a lease length later. The attempt it was in counts. Were
-- two processes ever given the same id by mistake, the other one loses its
-- claims at its next statement (fencing) and writes nothing more. Returns the
-- jobs whose leases ended.
CREATE OR REPLACE FUNCTION integration.expire_leases_of(p_worker text)
RETURNS bigint[]
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET jit = off
AS $$
  WITH expired AS (
    UPDATE integration.sync_job j
       SET lease_expires_at = now()
     WHERE j.direction = 'Inbound' AND j.job_status = 'Processing' AND j.lease_owner = p_worker
       AND j.lease_expires_at > now()
    RETURNING j.job_id
  )
  SELECT coalesce(array_agg(e.job_id ORDER BY e.job_id), '{}') FROM expired e
$$;

-- ---------------------------------------------------------------------------
-- Ending a claim
-- ---------------------------------------------------------------------------

-- wait_for_chunks(token, jobs): waits until no chunk transaction is fenced
-- on the claim's jobs any more (a chunk holds them FOR KEY SHARE; FOR UPDATE
-- waits for it), and keeps them locked. A statement after this one, with a
-- snapshot of its own, then sees everything those chunks wrote.
CREATE OR REPLACE FUNCTION integration.wait_for_chunks(p_token uuid, p_jobs bigint[])
RETURNS void
LANGUAGE sql
SET enable_seqscan = off SET jit = off
AS $$
  SELECT FROM integration.sync_job j
   WHERE j.claim_token = p_token AND (p_jobs IS NULL OR j.job_id = ANY (p_jobs))
   ORDER BY j.job_id
     FOR UPDATE
$$;

-- transition_jobs(token, jobs, event, error, max_attempts, backoff): ends the
-- claim `token` holds on `jobs` (NULL: all of them) with one of
--
--   finish   jobs with no pending item left become Completed, or
--            CompletedWithErrors when an item failed; jobs that still have
--            pending items (added behind the worker's cursor) stay Processing
--            and are returned with their pending count;
--   ack      an outbound job was delivered: its pending items become Applied,
--            then as finish;
--   retry    back to Submitted with run_after pushed out by backoff, or
--            Failed once its attempts reached max_attempts, with the error;
--   release  back to Submitted with no lease, the interrupted attempt not
--            counted (graceful shutdown).
--
-- Every job it moves loses its claim (token, owner, lease) and stores its true
-- counts. Returns each job of the claim with the status it has now and its
-- counts. Jobs the token no longer holds are left alone and not returned.
CREATE OR REPLACE FUNCTION integration.transition_jobs(
  p_token           uuid,
  p_jobs            bigint[],
  p_event           text,
  p_error           text DEFAULT NULL,
  p_max_attempts    integer DEFAULT NULL,
  p_backoff_seconds double precision DEFAULT 0)
RETURNS TABLE (job_id bigint, job_status text, attempts integer, total integer, applied integer, held integer,
               skipped integer, failed integer, pending integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_seqscan = off SET jit = off
AS $$
DECLARE
  jobs bigint[];
BEGIN
  IF p_event NOT IN ('finish', 'ack', 'retry', 'release') THEN
    RAISE EXCEPTION 'transition_jobs: % does not end a claim (finish, ack, retry, release)', p_event
      USING ERRCODE = 'invalid_parameter_value';
  ELSIF p_event = 'retry' AND p_max_attempts IS NULL THEN
    RAISE EXCEPTION 'transition_jobs: retry needs max_attempts' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM integration.wait_for_chunks(p_token, p_jobs);
  SELECT coalesce(array_agg(j.job_id ORDER BY j.job_id), '{}') INTO jobs
    FROM integration.sync_job j
   WHERE j.claim_token = p_token AND j.job_status = 'Processing' AND (p_jobs IS NULL OR j.job_id = ANY (p_jobs));

  IF p_event = 'ack' THEN
    UPDATE integration.sync_item i SET item_status = 'Applied', applied_at = now()
     WHERE i.job_id = ANY (jobs) AND i.item_status = 'Pending';
  END IF;

  RETURN QUERY
  WITH c AS (SELECT * FROM integration.job_item_counts(jobs)),
  n AS (
    SELECT c.*, integration.job_status_after(j.job_status, p_event, c.failed, j.attempts, p_max_attempts) AS status
      FROM c JOIN integration.sync_job j ON j.job_id = c.job_id
  ),
  moved AS (
    UPDATE integration.sync_job j
       SET job_status       = n.status,
           finished_at      = CASE WHEN n.status IN ('Completed', 'CompletedWithErrors', 'Failed') THEN now() END,
           lease_owner      = NULL,
           claim_token      = NULL,
           lease_expires_at = NULL,
           run_after        = CASE WHEN p_event = 'retry' AND n.status = 'Submitted'
                                   THEN now() + make_interval(secs => p_backoff_seconds) END,
           attempts         = CASE WHEN p_event = 'release' THEN greatest(j.attempts - 1, 0) ELSE j.attempts END,
           last_error       = CASE WHEN p_event = 'release' THEN j.last_error
                                   WHEN p_event = 'retry' AND n.status = 'Failed'
                                   THEN format('gave up after %s attempts: %s', j.attempts, p_error)
                                   ELSE p_error END,
           items_total      = n.total,
           items_applied    = n.applied,
           items_held       = n.held,
           items_skipped    = n.skipped,
           items_failed     = n.failed
      FROM n
     WHERE j.job_id = n.job_id
       AND n.status IS NOT NULL
       AND NOT (p_event = 'finish' AND n.pending > 0)
    RETURNING j.job_id, j.job_status, j.attempts
  )
  SELECT c.job_id, coalesce(moved.job_status, 'Processing'), coalesce(moved.attempts, j.attempts),
         c.total, c.applied, c.held, c.skipped, c.failed, c.pending
    FROM c
    JOIN integration.sync_job j ON j.job_id = c.job_id
    LEFT JOIN moved ON moved.job_id = c.job_id
   ORDER BY c.job_id;
END
$$;

-- pending_items(jobs, after_job, after_seq, after_item, limit): the next
-- window of a claim's pending items, in processing order: job by job in the
-- order given (the claim's submission order), then seq, then item_id, after
-- the cursor (the position of the last item of the previous window: its
-- job's index in p_jobs, 1-based, its seq and item_id). Each job is read
-- through the pending index with its own LIMIT, so a window costs the same
-- whether a job has ten items or ten million. target_table is the item's,
-- or its job's entity_type.
CREATE OR REPLACE FUNCTION integration.pending_items(
  p_jobs       bigint[],
  p_after_job  integer,
  p_after_seq  bigint,
  p_after_item bigint,
  p_limit      integer)
RETURNS TABLE (job_index integer, item_id bigint, seq bigint, target_table text, external_key text, operation text,
               field_name text, new_value text, source_timestamp timestamptz, target_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_seqscan = off SET jit = off
AS $$
  SELECT q.ord::integer, x.item_id, x.seq, x.target_table, x.external_key, x.operation, x.field_name, x.new_value,
         x.source_timestamp, x.target_id
    FROM unnest(p_jobs) WITH ORDINALITY AS q(job_id, ord)
    JOIN integration.sync_job j ON j.job_id = q.job_id
   CROSS JOIN LATERAL (
         SELECT i.item_id, i.seq, coalesce(i.target_table, j.entity_type) AS target_table, i.external_key,
                i.operation, i.field_name, i.new_value, i.source_timestamp, i.target_id
           FROM integration.sync_item i
          WHERE i.job_id = q.job_id AND i.item_status = 'Pending'
            -- The cursor as an index condition: the scan starts after it
            -- rather than skipping every item processed before.
            AND (i.seq, i.item_id) > (CASE WHEN q.ord = p_after_job THEN p_after_seq ELSE -9223372036854775808 END,
                                      CASE WHEN q.ord = p_after_job THEN p_after_item ELSE -9223372036854775808 END)
          ORDER BY i.seq, i.item_id
          LIMIT p_limit) x
   WHERE q.ord >= p_after_job
   ORDER BY q.ord, x.seq, x.item_id
   LIMIT p_limit
$$;

-- ---------------------------------------------------------------------------
-- Acting on one job
-- ---------------------------------------------------------------------------

-- job_for_action(job_id, direction, statuses, action, which): the job, locked
-- FOR UPDATE, or a refusal that names why the action does not apply to it
-- (which: the statuses in words, e.g. 'finished').
CREATE OR REPLACE FUNCTION integration.job_for_action(
  p_job_id bigint, p_direction text, p_statuses text[], p_action text, p_which text)
RETURNS integration.sync_job
LANGUAGE plpgsql AS $$
DECLARE
  job integration.sync_job;
BEGIN
  SELECT * INTO job FROM integration.sync_job j WHERE j.job_id = p_job_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'sync job % not found', coalesce(p_job_id::text, 'NULL')
      USING ERRCODE = 'SL040';
  ELSIF job.direction <> p_direction THEN
    RAISE EXCEPTION 'sync job % is %; only % jobs can be %', p_job_id, job.direction, lower(p_direction), p_action
      USING ERRCODE = 'SL041';
  ELSIF job.job_status <> ALL (p_statuses) THEN
    RAISE EXCEPTION 'sync job % is %; only % jobs can be %', p_job_id, job.job_status, p_which, p_action
      USING ERRCODE = 'SL041';
  END IF;
  RETURN job;
END
$$;

-- ack_outbound(job_id, claim_token): the connector delivered the job: its
-- items become Applied, the job Completed with its true counts. With a
-- token, the ack is refused unless that claim still holds the job, so a
-- connector whose lease expired and was taken over cannot complete the
-- other's work (without one, any connector of the system may ack).
CREATE OR REPLACE FUNCTION integration.ack_outbound(p_job_id bigint, p_claim_token uuid DEFAULT NULL)
RETURNS integration.sync_job
LANGUAGE plpgsql AS $$
DECLARE
  job integration.sync_job := integration.job_for_action(
                                p_job_id, 'Outbound', ARRAY['Processing'], 'acknowledged', 'Processing');
BEGIN
  IF p_claim_token IS NOT NULL AND job.claim_token IS DISTINCT FROM p_claim_token THEN
    RAISE EXCEPTION 'sync job % is held by another claim (leased to %), not by claim %',
                    p_job_id, coalesce(job.lease_owner, 'nobody'), p_claim_token
      USING ERRCODE = 'SL041',
            HINT = 'its lease expired and another connector claimed it; claim the next job again';
  END IF;
  IF job.claim_token IS NULL THEN
    -- Claimed before claims carried tokens: give it one to end.
    UPDATE integration.sync_job j SET claim_token = gen_random_uuid() WHERE j.job_id = p_job_id
    RETURNING * INTO job;
  END IF;
  PERFORM integration.transition_jobs(job.claim_token, ARRAY[p_job_id], 'ack');
  SELECT * INTO job FROM integration.sync_job j WHERE j.job_id = p_job_id;
  RETURN job;
END
$$;

-- requeue_failed(job_id): after an administrator fixed what made items fail
-- (typically a missing value_map row), send the job's failed items round
-- again. The job returns to Submitted with a fresh attempt budget, no lease
-- and true counts; the worker is woken by the job's notification trigger.
-- Returns the number of items requeued. Only finished inbound jobs qualify:
-- a running job is its worker's, an outbound job is its connector's, and a
-- Cancelled job was stopped on purpose.
CREATE OR REPLACE FUNCTION integration.requeue_failed(p_job_id bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_seqscan = off SET jit = off
AS $$
DECLARE
  job      integration.sync_job := integration.job_for_action(
                                     p_job_id, 'Inbound', ARRAY['Completed', 'CompletedWithErrors', 'Failed'], 'requeued',
                                     'finished (Completed, CompletedWithErrors, Failed)');
  requeued integer;
BEGIN
  UPDATE integration.sync_item i
     SET item_status = 'Pending', process_message = NULL
   WHERE i.job_id = p_job_id AND i.item_status = 'Failed';
  GET DIAGNOSTICS requeued = ROW_COUNT;
  DELETE FROM integration.item_refusal r WHERE r.job_id = p_job_id;

  UPDATE integration.sync_job j
     SET job_status       = integration.job_status_after(j.job_status, 'requeue'),
         finished_at      = NULL,
         lease_owner      = NULL,
         claim_token      = NULL,
         lease_expires_at = NULL,
         run_after        = NULL,
         attempts         = 0,
         last_error       = NULL,
         items_total      = c.total,
         items_applied    = c.applied,
         items_held       = c.held,
         items_skipped    = c.skipped,
         items_failed     = c.failed
    FROM integration.job_item_counts(ARRAY[p_job_id]) c
   WHERE j.job_id = p_job_id;

  RETURN requeued;
END
$$;
