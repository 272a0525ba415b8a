-- 007_operations.sql — operations in view (issue 21): a registry of the
-- workers that are running, and each running job's progress as its worker
-- last reported it. Both are written by the worker's heartbeat (one small
-- statement per heartbeat interval, the one that renews its leases), never
-- per chunk or per item. The functions that write them are in
-- code/20_jobs.sql (heartbeat) and code/22_workers.sql (the registry).

-- One row per running worker process, by worker id. A worker upserts its row
-- with every heartbeat and deletes it when it stops; a worker that dies stops
-- renewing it, and its row counts as gone once expires_at has passed.
CREATE TABLE integration.worker (
  worker_id        text PRIMARY KEY,
  host             text NOT NULL,
  pid              integer,
  version          text NOT NULL,
  started_at       timestamptz NOT NULL,
  heartbeat_at     timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  slots            integer NOT NULL
    CONSTRAINT worker_slots_positive CHECK (slots > 0),
  busy_slots       integer NOT NULL DEFAULT 0
    CONSTRAINT worker_busy_slots_range CHECK (busy_slots >= 0),
  jobs_held        integer NOT NULL DEFAULT 0
    CONSTRAINT worker_jobs_held_range CHECK (jobs_held >= 0),
  items_per_second real NOT NULL DEFAULT 0
);
COMMENT ON TABLE integration.worker IS
  'Workers that are running (or were until expires_at): one row per worker id, renewed by its heartbeat; see integration.live_workers.';
COMMENT ON COLUMN integration.worker.expires_at IS
  'The row counts as gone after this: about one lease after the last heartbeat of a worker that died or lost the database.';
COMMENT ON COLUMN integration.worker.busy_slots IS
  'Slots holding a claim at the last heartbeat; 0 means the worker was idle.';
COMMENT ON COLUMN integration.worker.items_per_second IS
  'Items this worker processed per second since its previous heartbeat.';

-- A running job's progress, reported by the worker that holds it with its
-- heartbeat: how many of the job's items have a result, how fast, and when
-- it said so. items_total is the job's item count (set by the same report
-- while the job runs, and true counts when it ends, as before).
ALTER TABLE integration.sync_job
  ADD COLUMN items_done       integer,
  ADD COLUMN items_per_second real,
  ADD COLUMN progress_at      timestamptz;
COMMENT ON COLUMN integration.sync_job.items_done IS
  'While Processing: items of the job with a result (not Pending), as its worker last reported (progress_at).';
COMMENT ON COLUMN integration.sync_job.items_per_second IS
  'While Processing: items per second its worker processed since its previous report.';
COMMENT ON COLUMN integration.sync_job.progress_at IS
  'When the worker holding the job last reported items_done and items_per_second (with its heartbeat).';
