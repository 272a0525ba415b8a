-- 006_jobs.sql — the job lifecycle, defined once: submission order, claims
-- with fencing tokens, the fence, heartbeat, finish, release, retry, and the
-- one definition of a job's item counts (SPEC §5).
--
-- Earlier versions of these statements lived in the worker's Swift code and
-- in 003/004; from here on the worker only calls these functions.
--
-- Every function below reads and writes the jobs and items it names through
-- indexes, and says so (enable_seqscan = off): the job and item tables grow
-- faster than their statistics, and a plan that scans them would cost more
-- with every job ever submitted. JIT is off with it: the penalty cost of a
-- refused scan would otherwise make PostgreSQL compile small statements.
--
-- Claims and fencing tokens
--   A worker claims up to N ready jobs in one statement and stamps them with
--   a claim token (a uuid it generates per claim). Every later statement about
--   those jobs names the token, not the worker: the fence, the heartbeat,
--   finish, release and retry all match claim_token. Two claims never share a
--   token, so no slot of any process can act on a job that another claim
--   holds, including another slot of the same process after its own lease
--   expired. lease_owner still names the worker (host:instance) for people.
--
-- The fence
--   Every chunk transaction locks its jobs' rows FOR KEY SHARE, checking the
--   token. Claims lock candidates FOR UPDATE SKIP LOCKED, which conflicts with
--   KEY SHARE: a job is never taken over while a chunk of it is in flight, and
--   the rescuer simply skips it. Everything else that updates a job row (the
--   heartbeat, a steward's counter update, finish) takes FOR NO KEY UPDATE,
--   which does not conflict with KEY SHARE, so none of them waits for a chunk
--   and none of them can deadlock with one.
--
-- Submission order
--   submit_seq numbers jobs in the order they became Submitted (a Draft job
--   gets a new number when its upstream flips it). Together with sync_item.seq
--   it is what "a later submission" means in SPEC §2 (Out of order).

CREATE SEQUENCE integration.job_submit_seq AS bigint;

ALTER TABLE integration.sync_job
  ADD COLUMN submit_seq  bigint NOT NULL DEFAULT nextval('integration.job_submit_seq'),
  ADD COLUMN claim_token uuid;
ALTER SEQUENCE integration.job_submit_seq OWNED BY integration.sync_job.submit_seq;

COMMENT ON COLUMN integration.sync_job.submit_seq IS
  'Submission order: assigned when the job becomes Submitted. With sync_item.seq, what "a later submission" means.';
COMMENT ON COLUMN integration.sync_job.claim_token IS
  'Fencing token of the claim that holds the job (NULL when unclaimed); every worker statement about the job checks it.';

-- Existing jobs keep their order of submission.
UPDATE integration.sync_job j SET submit_seq = o.n
  FROM (SELECT job_id, row_number() OVER (ORDER BY submitted_at, job_id) AS n FROM integration.sync_job) o
 WHERE j.job_id = o.job_id;
SELECT setval('integration.job_submit_seq', coalesce((SELECT max(submit_seq) FROM integration.sync_job), 0) + 1, false);

-- Draft → Submitted: the job's age and its place in the submission order
-- count from now.
CREATE OR REPLACE FUNCTION integration.stamp_submitted_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.job_status = 'Draft' AND NEW.job_status = 'Submitted' THEN
    NEW.submitted_at := now();
    NEW.submit_seq   := nextval('integration.job_submit_seq');
  END IF;
  RETURN NEW;
END
$$;

-- Claim order; the claim never reads the token, the fence reads it by job id.
CREATE INDEX sync_job_by_claim ON integration.sync_job (claim_token) WHERE claim_token IS NOT NULL;

-- ---------------------------------------------------------------------------
-- Item counts
-- ---------------------------------------------------------------------------

-- job_item_counts(jobs): the one definition of a job's counts, from its items.
-- finish_jobs, retry_jobs, ack_outbound and requeue_failed store these; the
-- steward functions move one item between two counters when they change its
-- status, which keeps the stored counts equal to these.
CREATE FUNCTION integration.job_item_counts(p_jobs bigint[])
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
    LEFT JOIN integration.sync_item i ON i.job_id = j.job_id
   GROUP BY j.job_id
$$;

-- ---------------------------------------------------------------------------
-- Claim
-- ---------------------------------------------------------------------------

-- claim_jobs(worker, token, lease, max_jobs, item_budget): claims ready inbound
-- jobs — Submitted ones whose run_after has passed, and Processing ones whose
-- lease expired — by priority, then age, in one statement. It takes up to
-- max_jobs of them while their pending items add up to at most item_budget
-- (each counted up to the budget), and always at least one: many small jobs
-- are claimed together, a large one alone. Returns the claimed jobs in
-- submission order, each with the lease owner it was rescued from (NULL when
-- it was Submitted).
CREATE FUNCTION integration.claim_jobs(
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
       SET job_status       = 'Processing',
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

-- fence_jobs(token, jobs): inside a chunk transaction, locks the jobs' rows
-- FOR KEY SHARE while the token still holds them, and returns the ones it
-- does. A chunk whose jobs are not all returned writes nothing.
CREATE FUNCTION integration.fence_jobs(p_token uuid, p_jobs bigint[])
RETURNS bigint[]
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_seqscan = off SET jit = off
AS $$
  SELECT coalesce(array_agg(f.job_id ORDER BY f.job_id), '{}')
    FROM (SELECT j.job_id FROM integration.sync_job j
           WHERE j.job_id = ANY (p_jobs) AND j.claim_token = p_token AND j.job_status = 'Processing'
           ORDER BY j.job_id
             FOR KEY SHARE) f
$$;

-- heartbeat(tokens, lease): extends the leases of every job the claims still
-- hold; returns the tokens that hold at least one job.
CREATE FUNCTION integration.heartbeat(p_tokens uuid[], p_lease_seconds integer)
RETURNS uuid[]
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_seqscan = off SET jit = off
AS $$
  WITH renewed AS (
    UPDATE integration.sync_job j
       SET lease_expires_at = now() + make_interval(secs => p_lease_seconds)
     WHERE j.claim_token = ANY (p_tokens) AND j.job_status = 'Processing'
    RETURNING j.claim_token
  )
  SELECT coalesce(array_agg(DISTINCT r.claim_token), '{}') FROM renewed r
$$;

-- finish_jobs(token, jobs): records the final status and true counts of each
-- job the token still holds and that has no pending item left: Completed, or
-- CompletedWithErrors when an item failed. Jobs with pending items (added
-- behind the worker's cursor) are left Processing and returned with their
-- pending count, so the worker goes round again.
CREATE FUNCTION integration.finish_jobs(p_token uuid, p_jobs bigint[])
RETURNS TABLE (job_id bigint, job_status text, total integer, applied integer, held integer, skipped integer,
               failed integer, pending integer)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_seqscan = off SET jit = off
AS $$
  -- First wait for any chunk transaction still fenced on these jobs (it holds
  -- FOR KEY SHARE; FOR UPDATE waits for it): the statement below, with a
  -- snapshot of its own, then counts what that chunk wrote.
  SELECT FROM integration.sync_job j
   WHERE j.job_id = ANY (p_jobs) AND j.claim_token = p_token
   ORDER BY j.job_id
     FOR UPDATE;
  WITH c AS (SELECT * FROM integration.job_item_counts(p_jobs)),
  done AS (
    UPDATE integration.sync_job j
       SET job_status       = CASE WHEN c.failed > 0 THEN 'CompletedWithErrors' ELSE 'Completed' END,
           finished_at      = now(),
           lease_owner      = NULL,
           claim_token      = NULL,
           lease_expires_at = NULL,
           run_after        = NULL,
           last_error       = NULL,
           items_total      = c.total,
           items_applied    = c.applied,
           items_held       = c.held,
           items_skipped    = c.skipped,
           items_failed     = c.failed
      FROM c
     WHERE j.job_id = c.job_id AND c.pending = 0
       AND j.claim_token = p_token AND j.job_status = 'Processing'
    RETURNING j.job_id, j.job_status
  )
  SELECT c.job_id, coalesce(done.job_status, j.job_status), c.total, c.applied, c.held, c.skipped, c.failed, c.pending
    FROM c
    JOIN integration.sync_job j ON j.job_id = c.job_id
    LEFT JOIN done ON done.job_id = c.job_id
   WHERE done.job_id IS NOT NULL OR (j.claim_token = p_token AND j.job_status = 'Processing')
   ORDER BY c.job_id
$$;

-- release_jobs(token): gives a claim's unfinished jobs back (graceful
-- shutdown): Submitted again with no lease, and the interrupted attempt not
-- counted. Returns the jobs released.
CREATE FUNCTION integration.release_jobs(p_token uuid)
RETURNS bigint[]
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_seqscan = off SET jit = off
AS $$
  -- First wait for any chunk transaction still fenced on these jobs (it holds
  -- FOR KEY SHARE; FOR UPDATE waits for it): the statement below, with a
  -- snapshot of its own, then sees the claim as that chunk left it.
  SELECT FROM integration.sync_job j
   WHERE j.claim_token = p_token
   ORDER BY j.job_id
     FOR UPDATE;
  WITH released AS (
    UPDATE integration.sync_job j
       SET job_status = 'Submitted', lease_owner = NULL, claim_token = NULL, lease_expires_at = NULL,
           attempts = greatest(j.attempts - 1, 0)
     WHERE j.claim_token = p_token AND j.job_status = 'Processing'
    RETURNING j.job_id
  )
  SELECT coalesce(array_agg(r.job_id ORDER BY r.job_id), '{}') FROM released r
$$;

-- expire_leases_of(worker): a worker that starts again under the same
-- (stable) worker id ends the leases its previous run left behind: that run
-- is gone (systemd runs one process per unit), so its jobs are rescued at
-- once instead of a lease length later. The attempt it was in counts. Were
-- two processes ever given the same id by mistake, the other one loses its
-- claims at its next statement (fencing) and writes nothing more. Returns the
-- jobs whose leases ended.
CREATE FUNCTION integration.expire_leases_of(p_worker text)
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

-- retry_jobs(token, jobs, error, max_attempts, backoff): after an error that
-- is not about one item, each job the token still holds goes back to
-- Submitted with run_after pushed out by backoff, or ends Failed once its
-- attempts reached max_attempts, with last_error and true counts either way.
-- Returns each job with the status it got.
CREATE FUNCTION integration.retry_jobs(
  p_token           uuid,
  p_jobs            bigint[],
  p_error           text,
  p_max_attempts    integer,
  p_backoff_seconds double precision)
RETURNS TABLE (job_id bigint, job_status text, attempts integer)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_seqscan = off SET jit = off
AS $$
  -- First wait for any chunk transaction still fenced on these jobs (it holds
  -- FOR KEY SHARE; FOR UPDATE waits for it): the statement below, with a
  -- snapshot of its own, then counts what that chunk wrote.
  SELECT FROM integration.sync_job j
   WHERE j.job_id = ANY (p_jobs) AND j.claim_token = p_token
   ORDER BY j.job_id
     FOR UPDATE;
  WITH c AS (SELECT * FROM integration.job_item_counts(p_jobs))
  UPDATE integration.sync_job j
     SET job_status       = CASE WHEN j.attempts >= p_max_attempts THEN 'Failed' ELSE 'Submitted' END,
         finished_at      = CASE WHEN j.attempts >= p_max_attempts THEN now() END,
         run_after        = CASE WHEN j.attempts >= p_max_attempts THEN NULL
                                 ELSE now() + make_interval(secs => p_backoff_seconds) END,
         lease_owner      = NULL,
         claim_token      = NULL,
         lease_expires_at = NULL,
         last_error       = CASE WHEN j.attempts >= p_max_attempts
                                 THEN format('gave up after %s attempts: %s', j.attempts, p_error)
                                 ELSE p_error END,
         items_total      = c.total,
         items_applied    = c.applied,
         items_held       = c.held,
         items_skipped    = c.skipped,
         items_failed     = c.failed
    FROM c
   WHERE j.job_id = c.job_id AND j.claim_token = p_token AND j.job_status = 'Processing'
  RETURNING j.job_id, j.job_status, j.attempts
$$;

-- pending_items(jobs, after_job, after_seq, after_item, limit): the next
-- window of a claim's pending items, in processing order: job by job in the
-- order given (the claim's submission order), then seq, then item_id, after
-- the cursor (the position of the last item of the previous window: its
-- job's index in p_jobs, 1-based, its seq and item_id). Each job is read
-- through the pending index with its own LIMIT, so a window costs the same
-- whether a job has ten items or ten million. One row of arrays.
CREATE FUNCTION integration.pending_items(
  p_jobs       bigint[],
  p_after_job  integer,
  p_after_seq  bigint,
  p_after_item bigint,
  p_limit      integer)
RETURNS TABLE (job_index integer[], item_id bigint[], seq bigint[], target_table text[], table_null boolean[],
               external_key text[], key_null boolean[], operation text[], field_name text[], field_null boolean[],
               new_value text[], value_null boolean[], source_timestamp timestamptz[], ts_null boolean[],
               target_id uuid[], hint_null boolean[])
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_seqscan = off SET jit = off
AS $$
  WITH w AS (
    SELECT q.ord::integer AS job_index, x.*
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
  )
  SELECT coalesce(array_agg(w.job_index ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(w.item_id ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(w.seq ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(coalesce(w.target_table, '') ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(w.target_table IS NULL ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(coalesce(w.external_key, '') ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(w.external_key IS NULL ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(w.operation ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(coalesce(w.field_name, '') ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(w.field_name IS NULL ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(coalesce(w.new_value, '') ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(w.new_value IS NULL ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(coalesce(w.source_timestamp, 'epoch') ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(w.source_timestamp IS NULL ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(coalesce(w.target_id, '00000000-0000-0000-0000-000000000000') ORDER BY w.job_index, w.seq, w.item_id), '{}'),
         coalesce(array_agg(w.target_id IS NULL ORDER BY w.job_index, w.seq, w.item_id), '{}')
    FROM w
$$;

-- ---------------------------------------------------------------------------
-- Requeue
-- ---------------------------------------------------------------------------

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
  job      integration.sync_job;
  requeued integer;
BEGIN
  SELECT * INTO job FROM integration.sync_job j WHERE j.job_id = p_job_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'sync job % not found', coalesce(p_job_id::text, 'NULL')
      USING ERRCODE = 'SL040';
  ELSIF job.direction <> 'Inbound' THEN
    RAISE EXCEPTION 'sync job % is %; only inbound jobs can be requeued', p_job_id, job.direction
      USING ERRCODE = 'SL041';
  ELSIF job.job_status NOT IN ('Completed', 'CompletedWithErrors', 'Failed') THEN
    RAISE EXCEPTION 'sync job % is %; only finished jobs (Completed, CompletedWithErrors, Failed) can be requeued',
                    p_job_id, job.job_status
      USING ERRCODE = 'SL041';
  END IF;

  UPDATE integration.sync_item i
     SET item_status = 'Pending', process_message = NULL
   WHERE i.job_id = p_job_id AND i.item_status = 'Failed';
  GET DIAGNOSTICS requeued = ROW_COUNT;

  UPDATE integration.sync_job j
     SET job_status       = 'Submitted',
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

REVOKE EXECUTE ON FUNCTION
  integration.claim_jobs(text, uuid, integer, integer, integer),
  integration.fence_jobs(uuid, bigint[]),
  integration.heartbeat(uuid[], integer),
  integration.finish_jobs(uuid, bigint[]),
  integration.release_jobs(uuid),
  integration.retry_jobs(uuid, bigint[], text, integer, double precision),
  integration.pending_items(bigint[], integer, bigint, bigint, integer),
  integration.job_item_counts(bigint[])
FROM PUBLIC;
