-- retention.sql — retention: processed work is removed, provenance stays
-- (SPEC §7 `prune`).
--
-- What is removed, and why nothing else needs it
--   Staging rows are working data: a nightly extract of 100,000 people adds
--   about a million sync_item rows a night. Once a job is finished
--   (Completed, CompletedWithErrors, Failed, Cancelled), nothing reads its
--   items or its row again for processing:
--     - the worker claims only Submitted and Processing jobs;
--     - certify and reject move a held item to Applied/Skipped *if it is
--       still there* (an UPDATE that matches nothing once it is gone);
--     - a job's counts are stored on its row, and go with it;
--     - "a later submission" (SPEC §2, Out of order) is decided by
--       integration.source_order, which keeps submit_seq and seq by value;
--     - provenance lives in the ledger: every entry carries its source,
--       source_timestamp, value, previous_value, job_id and sync_item_id as
--       plain columns, covered by its hash (007). 008 dropped the foreign keys
--       ledger → sync_item, ledger → sync_job and sync_item → ledger so that
--       those ids keep naming rows retention has removed, and verify_ledger
--       and provenance_violations read the ledger and the targets only.
--   So retention deletes finished sync_job rows (inbound and outbound) and
--   their sync_item rows, and nothing else: never a ledger row, an event, an
--   identifier, a source_order mark, or an unfinished job.
--
-- Why batched deletes, not partitions
--   Partitioning sync_item (by job id or submission time) would make pruning
--   a DROP of a partition. It does not fit this table:
--     - A partition can only be dropped when every job in it is finished and
--       old. By job id, one job that never finishes (a Draft an upstream never
--       submitted, a job held by retries) pins its range and all its
--       neighbours' items. By submission time, items have no submission time
--       of their own (a column on every item), and a job's items straddle two
--       partitions when it is staged across the boundary.
--     - A partitioned table's unique constraints must include the partition
--       key: item_id could no longer be unique on its own, which the ledger's
--       sync_item_id and the worker's item updates rely on.
--     - Partitions must be created ahead of the rows they will hold: a new
--       moving part (a scheduler or the worker), and a missed one sends rows
--       to a default partition that can never be dropped cheaply again.
--     - The worker's statements on items (pending_items, apply_chunk, the
--       claim's sizing) are index lookups tuned for plans that do not change
--       with volume (jobs.sql, aspects.sql); converting the table rewrites every item and
--       its policies, grants and identity in one migration.
--   A batched DELETE through the existing index on sync_item (job_id, ...)
--   removes a night's million items in a hundred short transactions of ten
--   thousand, at a time the operator chooses; autovacuum makes the space
--   reusable for the next night's items, so the table settles at about
--   (retention in days) × (items per day). Partitioning stays possible later,
--   in a migration of its own, if volumes ever make that too slow.
--
-- How it runs
--   integration.prune_jobs(older_than, batch) removes, in one call, at most
--   `batch` items of finished jobs older than `older_than`, and those jobs
--   once they have no item left; it returns what it removed and whether
--   there is more. The caller (`syncledger prune`, or the worker's
--   --retention) calls it again, each call its own short transaction, until
--   more is false. Jobs and items are locked FOR UPDATE SKIP LOCKED: a job or
--   item someone holds (a steward certifying a held item, requeue_failed on
--   an old job) is left for a later call rather than waited for; workers
--   never hold finished jobs, so they never wait for retention, nor it for
--   them. A job's age is its finished_at (submitted_at for a job cancelled
--   without one). A job with more items than one batch loses them over
--   several calls and goes with the last; until then it stays as it was
--   (finished, its counts on its row).
--
-- Work that still waits for a fix is kept
--   An inbound job that ended Failed or CompletedWithErrors and still has
--   Failed or Pending items waits for an administrator to fix the cause and
--   call integration.requeue_failed(job_id) (SPEC §2, Normalise): its values
--   never reached the ledger, so its items are the only copy of them.
--   Retention leaves such a job and all its items alone (its counts stay
--   right for a later requeue), until it is requeued and finishes, or an
--   administrator prunes it on purpose (p_include_failed, `syncledger prune
--   --include-failed`). integration.job_awaits_requeue is that rule, once.
--
--   SL070  invalid argument to prune_jobs / prune_preview

-- job_awaits_requeue(job): a finished inbound job whose Failed or Pending
-- items wait for integration.requeue_failed (see the top of this file). Through the index
-- sync_item (job_id, item_status).
CREATE OR REPLACE FUNCTION integration.job_awaits_requeue(p_job integration.sync_job)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, integration, pg_temp
AS $$
  SELECT p_job.direction = 'Inbound'
     AND p_job.job_status IN ('Failed', 'CompletedWithErrors')
     AND EXISTS (SELECT FROM integration.sync_item i
                  WHERE i.job_id = p_job.job_id AND i.item_status IN ('Failed', 'Pending'))
$$;

-- prune_jobs(older_than, batch, include_failed): one batch of retention, as
-- described at the top of this file.
-- jobs_pruned and items_pruned: what this call removed; more: call again.
CREATE OR REPLACE FUNCTION integration.prune_jobs(p_older_than interval, p_batch integer DEFAULT 10000,
                                       p_include_failed boolean DEFAULT false)
RETURNS TABLE (jobs_pruned integer, items_pruned integer, more boolean)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
-- Through indexes only, like the job functions of jobs.sql: the job and item
-- tables grow faster than their statistics.
SET enable_seqscan = off SET jit = off
AS $$
DECLARE
  cutoff  timestamptz;
  chosen  bigint[];
  n_items integer;
  n_jobs  integer;
BEGIN
  IF p_older_than IS NULL OR p_older_than < interval '0' THEN
    RAISE EXCEPTION 'prune_jobs needs an age of zero or more, got %', coalesce(p_older_than::text, 'NULL')
      USING ERRCODE = 'SL070';
  ELSIF p_batch IS NULL OR p_batch < 1 THEN
    RAISE EXCEPTION 'prune_jobs needs a batch size of at least 1, got %', coalesce(p_batch::text, 'NULL')
      USING ERRCODE = 'SL070';
  END IF;
  cutoff := now() - p_older_than;

  SELECT coalesce(array_agg(c.job_id ORDER BY c.job_id), '{}')
    INTO chosen
    FROM (SELECT j.job_id
            FROM integration.sync_job j
           WHERE j.job_status IN ('Completed', 'CompletedWithErrors', 'Failed', 'Cancelled')
             AND coalesce(j.finished_at, j.submitted_at) < cutoff
             AND (p_include_failed OR NOT integration.job_awaits_requeue(j))
           ORDER BY coalesce(j.finished_at, j.submitted_at), j.job_id
           LIMIT p_batch
             FOR UPDATE SKIP LOCKED) c;
  IF cardinality(chosen) = 0 THEN
    RETURN QUERY SELECT 0, 0, false;
    RETURN;
  END IF;

  -- At most p_batch items of the chosen jobs, job by job.
  WITH doomed AS (
    SELECT d.item_id
      FROM unnest(chosen) AS c(job_id)
     CROSS JOIN LATERAL (SELECT i.item_id FROM integration.sync_item i
                          WHERE i.job_id = c.job_id
                          LIMIT p_batch
                            FOR UPDATE SKIP LOCKED) d
     LIMIT p_batch
  ), gone AS (
    DELETE FROM integration.sync_item i USING doomed WHERE i.item_id = doomed.item_id
    RETURNING i.item_id
  ), refusals AS (
    -- What the database said about refused ones (no foreign key: see 006_intake.sql).
    DELETE FROM integration.item_refusal r USING gone WHERE r.item_id = gone.item_id
  )
  SELECT count(*) INTO n_items FROM gone;

  -- The chosen jobs that have no item left.
  WITH gone AS (
    DELETE FROM integration.sync_job j
     WHERE j.job_id = ANY (chosen)
       AND NOT EXISTS (SELECT FROM integration.sync_item i WHERE i.job_id = j.job_id)
    RETURNING 1
  )
  SELECT count(*) INTO n_jobs FROM gone;

  -- More when this call was full, or left items behind; never when it
  -- removed nothing (what is left is held by others: a later run).
  RETURN QUERY SELECT n_jobs, n_items,
    (n_jobs + n_items) > 0 AND (n_items >= p_batch OR cardinality(chosen) >= p_batch OR n_jobs < cardinality(chosen));
END
$$;
COMMENT ON FUNCTION integration.prune_jobs(interval, integer, boolean) IS
  'Retention: removes up to p_batch items of finished jobs older than p_older_than, and those jobs once empty; call until more is false. Keeps jobs whose failed items wait for requeue_failed unless p_include_failed. Never touches the ledger.';

-- prune_preview(older_than, include_failed): what prune_jobs would remove now, without
-- removing anything (`syncledger prune --dry-run`): finished jobs, their
-- items, and the newest finish among them. Counts every such item: a read
-- of the item index, not for every minute.
CREATE OR REPLACE FUNCTION integration.prune_preview(p_older_than interval, p_include_failed boolean DEFAULT false)
RETURNS TABLE (jobs bigint, items bigint, cutoff timestamptz, newest timestamptz, kept_for_requeue bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET enable_seqscan = off SET jit = off
AS $$
BEGIN
  IF p_older_than IS NULL OR p_older_than < interval '0' THEN
    RAISE EXCEPTION 'prune_preview needs an age of zero or more, got %', coalesce(p_older_than::text, 'NULL')
      USING ERRCODE = 'SL070';
  END IF;
  RETURN QUERY
  WITH old AS (
    SELECT j.job_id, coalesce(j.finished_at, j.submitted_at) AS age
      FROM integration.sync_job j
     WHERE j.job_status IN ('Completed', 'CompletedWithErrors', 'Failed', 'Cancelled')
       AND coalesce(j.finished_at, j.submitted_at) < now() - p_older_than
       AND (p_include_failed OR NOT integration.job_awaits_requeue(j))
  )
  SELECT (SELECT count(*) FROM old),
         (SELECT count(*) FROM old JOIN integration.sync_item i ON i.job_id = old.job_id),
         now() - p_older_than,
         (SELECT max(old.age) FROM old),
         (SELECT count(*) FROM integration.sync_job j
           WHERE NOT p_include_failed
             AND j.job_status IN ('CompletedWithErrors', 'Failed')
             AND coalesce(j.finished_at, j.submitted_at) < now() - p_older_than
             AND integration.job_awaits_requeue(j));
END
$$;
