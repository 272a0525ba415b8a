-- 014_observability.sql — partial indexes for what operators watch: the
-- gauges of /metrics (read at every scrape, by every worker) and
-- `syncledger status`. Each index holds only the rows that are open or need
-- attention, so reading them costs in proportion to the backlog, not to the
-- history of finished jobs, items and certified entries.
--
-- (The numbers only order the files.)
--
-- On a large existing database these builds lock writes to the table while
-- they run. To avoid that, a DBA may create them beforehand, outside a
-- transaction, with CREATE INDEX CONCURRENTLY and the same names and
-- definitions; this migration then finds them and does nothing.

-- syncledger_jobs{direction,status}: open jobs by status, and those that gave
-- up (Failed), counted from the index alone. Also serves the leases per
-- worker (job_status = 'Processing').
CREATE INDEX IF NOT EXISTS sync_job_open_by_status ON integration.sync_job (direction, job_status)
  WHERE job_status IN ('Draft', 'Submitted', 'Processing', 'Failed');

-- syncledger_review_backlog{target_table} and the age of the oldest pending
-- entry per table, from the index alone.
CREATE INDEX IF NOT EXISTS ledger_pending_by_table ON integration.ledger (target_table, recorded_at)
  WHERE ledger_status = 'Pending';

-- syncledger_failed_items{source}: the failed items waiting for a fix and
-- integration.requeue_failed(job_id), without reading the applied ones.
CREATE INDEX IF NOT EXISTS sync_item_failed ON integration.sync_item (job_id)
  WHERE item_status = 'Failed';
