-- workers.sql — the registry of live workers (SPEC §5; issue 21): which
-- worker processes are running, on which host and release, since when, how
-- many jobs each holds and whether it is idle or busy.
--
-- A worker writes its row with every heartbeat, in the same statement that
-- renews its leases (integration.heartbeat, code/20_jobs.sql): one small
-- upsert per heartbeat interval, busy or idle, never per chunk or item. It
-- deletes its row when it stops. A worker that dies (SIGKILL, a lost host, a
-- lost database) stops renewing its row, which then counts as gone once
-- expires_at has passed: about one lease after its last heartbeat.
-- live_workers, `syncledger status` and the syncledger_live_workers metric
-- show only rows that have not expired. Rows that expired more than a day ago
-- are removed when a worker starts (register_worker), so the table holds the
-- fleet and its recent dead, never a history.

-- The row a worker's state (a JSON object with the columns of
-- integration.worker: worker_id, host, pid, version, started_at, slots,
-- busy_slots, jobs_held, items_per_second) stands for, renewed now for
-- p_expires_seconds.
CREATE OR REPLACE FUNCTION integration.worker_heartbeat(p_state jsonb, p_expires_seconds integer)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  INSERT INTO integration.worker AS w
         (worker_id, host, pid, version, started_at, heartbeat_at, expires_at, slots, busy_slots, jobs_held, items_per_second)
  SELECT s.worker_id, s.host, s.pid, s.version, s.started_at, now(), now() + make_interval(secs => p_expires_seconds),
         s.slots, coalesce(s.busy_slots, 0), coalesce(s.jobs_held, 0), coalesce(s.items_per_second, 0)
    FROM jsonb_populate_record(NULL::integration.worker, p_state) s
  ON CONFLICT (worker_id) DO UPDATE
     SET host = EXCLUDED.host, pid = EXCLUDED.pid, version = EXCLUDED.version, started_at = EXCLUDED.started_at,
         heartbeat_at = EXCLUDED.heartbeat_at, expires_at = EXCLUDED.expires_at, slots = EXCLUDED.slots,
         busy_slots = EXCLUDED.busy_slots, jobs_held = EXCLUDED.jobs_held, items_per_second = EXCLUDED.items_per_second
$$;

-- A worker starting: its first heartbeat, after removing the rows of workers
-- that expired more than a day ago.
CREATE OR REPLACE FUNCTION integration.register_worker(p_state jsonb, p_expires_seconds integer)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  DELETE FROM integration.worker w WHERE w.expires_at < now() - interval '1 day';
  SELECT integration.worker_heartbeat(p_state, p_expires_seconds);
$$;

-- A worker stopping: its row goes at once.
CREATE OR REPLACE FUNCTION integration.deregister_worker(p_worker text)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  DELETE FROM integration.worker w WHERE w.worker_id = p_worker;
$$;

-- The workers running now: every row that has not expired, with its state
-- in a word (busy: a slot holds a claim; idle: it is waiting for work) and
-- the seconds since its last heartbeat.
CREATE OR REPLACE VIEW integration.live_workers AS
SELECT w.worker_id, w.host, w.pid, w.version, w.started_at, w.heartbeat_at, w.expires_at,
       CASE WHEN w.busy_slots > 0 THEN 'busy' ELSE 'idle' END AS state,
       w.slots, w.busy_slots, w.jobs_held, w.items_per_second,
       extract(epoch FROM now() - w.heartbeat_at)::float8 AS heartbeat_age_seconds
  FROM integration.worker w
 WHERE w.expires_at > now();
