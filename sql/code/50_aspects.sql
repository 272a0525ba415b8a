-- aspects.sql — the aspect layer: the one place that defines, for every
-- writer (the worker's chunks, the steward functions), the views and the
-- provenance check, what SPEC §2 "Ownership, order and canonical values"
-- says:
--
--   ownership     integration.owner_entry: the applied, non-rejected,
--                 non-revoked entry of an aspect with the highest apply_seq.
--   apply order   apply_seq, taken from integration.apply_seq while the writer
--                 holds the target row's lock (never now(): the transaction's
--                 start orders overlapping transactions wrongly).
--   staleness     integration.is_stale over integration.stale_clock.
--   source order  integration.source_order: per aspect and source, the newest
--                 statement that source made about it (source_timestamp and
--                 submission order), whether or not it produced an entry.
--   lock order    target rows first, in (table, id) order; then the job rows
--                 (FOR KEY SHARE, jobs.sql); then ledger rows. The worker
--                 (prepare_chunk) and the steward functions (lock_target)
--                 both follow it, so neither can deadlock the other.
--   values        canonical text for the ledger (targets.sql); comparisons
--                 with a target value on the column's type.
--   target write  write_targets (targets.sql), for the worker and the
--                 steward functions alike.
--
-- Source order marks: "newer" (SPEC §2, Out of order) is a later
-- source_timestamp when both items carry one, otherwise a later submission
-- (sync_job.submit_seq, then sync_item.seq). One row per aspect and source
-- keeps enough to answer "did this source already say something newer about
-- this aspect?" exactly:
--   ts_*    the latest source_timestamp, and the latest submission carrying it
--   any_*   the latest submission
--   nots_*  the latest submission without a source_timestamp
-- Every governed item updates it, including an unchanged value that produced
-- no entry, so the final value never depends on which worker ran first.
-- Written only under the aspect's target row lock.
--
-- Plans: the chunk functions touch only the rows they name, through indexes
-- (every lookup is a LATERAL ... LIMIT 1 or = ANY on a unique key). The
-- crosswalk, the ledger and its chain grow while a run goes on, faster than
-- their statistics follow: a planner that still believes a table is small
-- would read all of it for every lookup, a cost that grows with history. So
-- never a sequential scan, and never JIT compilation (which the penalty cost
-- of a refused scan would trigger, at a hundred milliseconds a statement).
-- The plans are cached (generic) after the first calls: planning every
-- statement of every chunk would cost a quarter of the chunk.
--
--   SL060  the claim no longer holds a job of the chunk (lease lost)
--   SL061  the configuration changed since the worker loaded it
--   SL062  a worker decision the policies do not allow (e.g. Certified without auto_certify)

-- ---------------------------------------------------------------------------
-- Ownership and staleness
-- ---------------------------------------------------------------------------

-- owner_entry(table, id, aspect_key): the entry that owns an aspect's current
-- value: the applied, non-rejected, non-revoked entry with the highest
-- apply_seq. This is the one definition of ownership: the view below, the
-- worker's state (prepare_chunk), the steward functions and the provenance
-- check all ask it. An index walk of ledger_by_aspect, whatever the history.
CREATE OR REPLACE FUNCTION integration.owner_entry(p_table text, p_id uuid, p_aspect_key text)
RETURNS SETOF integration.ledger
LANGUAGE sql STABLE ROWS 1 AS $$
  SELECT l.* FROM integration.ledger l
   WHERE l.target_table = p_table AND l.target_id = p_id AND l.aspect_key = p_aspect_key
     AND l.is_applied AND l.ledger_status IN ('Pending', 'Certified')
   ORDER BY l.apply_seq DESC
   LIMIT 1
$$;

-- stale_clock(entry): the staleness clock of a value: when its source last
-- confirmed it (confirmed_at, which applying sets), else when it was applied.
CREATE OR REPLACE FUNCTION integration.stale_clock(l integration.ledger)
RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT coalesce(l.confirmed_at, l.applied_at, l.recorded_at)
$$;

-- Every aspect with its owner. A filter on the first three columns finds the
-- aspect through the index and asks owner_entry once.
CREATE OR REPLACE VIEW integration.aspect_owner AS
SELECT a.target_table, a.target_id, a.aspect_key,
       o.ledger_id, o.ledger_aspect, o.source_system_key, o.ledger_status, o.value, o.previous_value, o.is_applied,
       o.applied_at, o.apply_seq, o.sync_item_id, o.job_id, o.source_timestamp, o.recorded_at, o.confirmed_at,
       o.certified_at, o.certified_by, o.notes, integration.stale_clock(o) AS stale_clock
  FROM (SELECT DISTINCT l.target_table, l.target_id, l.aspect_key FROM integration.ledger l) a
 CROSS JOIN LATERAL integration.owner_entry(a.target_table, a.target_id, a.aspect_key) o;
COMMENT ON VIEW integration.aspect_owner IS
  'Per (target_table, target_id, aspect_key): the owning ledger entry (integration.owner_entry) and its staleness clock.';

-- Whether a value last confirmed at p_clock is stale at p_at under a policy
-- of p_days (NULL: never). Exactly p_days old is not yet stale.
CREATE OR REPLACE FUNCTION integration.is_stale(p_clock timestamptz, p_days integer, p_at timestamptz)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT p_days IS NOT NULL AND p_clock < p_at - make_interval(days => p_days)
$$;

-- The policy that governs an aspect: the field's, or the record-level one
-- for the Record aspect.
CREATE OR REPLACE FUNCTION integration.aspect_policy(p_table text, p_aspect text, p_aspect_key text)
RETURNS SETOF integration.commit_policy
LANGUAGE sql STABLE ROWS 1 AS $$
  SELECT p.* FROM integration.commit_policy p
   WHERE p.target_table = p_table
     AND p.field_name IS NOT DISTINCT FROM (CASE WHEN p_aspect = 'Record' THEN NULL ELSE p_aspect_key END)
$$;

-- ---------------------------------------------------------------------------
-- The worker's chunk: prepare (resolve, lock, read), then apply (write)
-- ---------------------------------------------------------------------------
--
-- The worker crosses into SQL with records (JSON objects, one per item),
-- and reads back named rows. A chunk transaction is one or more rounds of
-- prepare_chunk and apply_chunk; a round holds at most one item per aspect
-- (the worker's RoundPlanner), so every item is decided on facts that
-- include the writes of the items before it.

-- prepare_chunk(token, jobs, config_version, items): the first statement of
-- each round of a chunk transaction. In order: checks the configuration
-- version (SL061) and fences the claim's jobs (SL060, jobs.sql); casts the
-- items' values to their columns' types, canonical text or the cast error,
-- before anything is written (an item whose value does not fit creates
-- nothing); resolves the items' records, and a Link's related record, through
-- the crosswalk (crosswalk.sql); locks the target rows FOR NO KEY UPDATE in
-- (table, id) order and reads the items' columns; and answers, per item,
-- what governance needs: the value, whether it equals the current value on
-- the column's type, the aspect's owner and whether it is stale, the
-- source's held entry with an equal value, and the source's order marks.
--
-- Each element of `items` (a JSON array) is one item:
--   n             its number in the round (returned with the answer)
--   source, table, key   the record it changes; hint: a target_id to link a
--                 new key to; creates: whether it may create the record
--   related_table, related_key   a Link's related record (the value is its id)
--   column        the column it reads and writes (the field, or the table's
--                 active column for Delete)
--   aspect, aspect_key   its ledger aspect (Field, Relationship, Record)
--   value         the value for the column as given (false for Delete; null
--                 for a Link, whose value is the related record's id)
--
-- Values come back in the ledger's form: canonical text; a Link's related
-- record id; 'deleted' for a Delete, and as the current value of a record
-- whose active column is false. A record created by this call has no owner,
-- no marks and no held entries: its items look nothing up.
CREATE OR REPLACE FUNCTION integration.prepare_chunk(
  p_token          uuid,
  p_jobs           bigint[],
  p_config_version bigint,
  p_items          jsonb)
RETURNS TABLE (
  n                integer,
  target_id        uuid,
  created          boolean,
  key_conflict     boolean,
  related_id       uuid,
  related_created  boolean,
  related_conflict boolean,
  value            text,
  cast_error       text,
  current_value    text,
  equals_current   boolean,
  owner_ledger     bigint,
  owner_source     text,
  owner_stale      boolean,
  held_duplicate   bigint,
  ts_max           timestamptz,
  ts_submit        bigint,
  ts_seq           bigint,
  any_submit       bigint,
  any_seq          bigint,
  nots_submit      bigint,
  nots_seq         bigint)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
-- Planner settings: see "Plans" at the top of this file.
SET enable_seqscan = off SET enable_nestloop = off SET jit = off
AS $$
DECLARE
  at        timestamptz := now();
  fenced    bigint[];
  tgt       record;
  tbl       text;
  grp       record;
  cols      text[];
  ids       uuid[];
  x_id      uuid[];
  x_col     integer[];
  x_n       integer[];
  -- The items, in order of n.
  i_n       integer[];
  i_source  text[];
  i_table   text[];
  i_key     text[];
  i_hint    uuid[];
  i_creates boolean[];
  i_rtable  text[];
  i_rkey    text[];
  i_column  text[];
  i_aspect  text[];
  i_akey    text[];
  i_value   text[];
  -- Canonical values and cast errors (item number, text, error).
  can_n     integer[] := '{}';
  can_v     text[] := '{}';
  can_err   text[] := '{}';
  -- The records, and per item its record and related record.
  rec       jsonb;
  r_n       integer[];
  r_id      uuid[];
  r_found   boolean[];
  r_created boolean[];
  it_rec    integer[];
  it_rel    integer[];
  -- Per item: whether its record resolved, and its column value (ledger form aside).
  it_t      text[];
  it_id     uuid[];
  it_found  boolean[];
  it_new    boolean[];
  it_v      text[];
  it_err    text[];
  -- Current values read (item number, text, null), equality, held duplicates.
  cur_n     integer[] := '{}';
  cur_v     text[] := '{}';
  cur_vn    boolean[] := '{}';
  part_n    integer[];
  part_v    text[];
  part_vn   boolean[];
  same_n    integer[] := '{}';
  same_v    boolean[] := '{}';
  dup_n     integer[] := '{}';
  dup_l     bigint[] := '{}';
BEGIN
  IF (SELECT v.version FROM integration.config_version v) IS DISTINCT FROM p_config_version THEN
    RAISE EXCEPTION 'the configuration changed since the worker loaded it' USING ERRCODE = 'SL061';
  END IF;
  PERFORM integration.fence_chunk(p_token, p_jobs);

  SELECT coalesce(array_agg(x.n ORDER BY x.n), '{}'), coalesce(array_agg(x.source ORDER BY x.n), '{}'),
         coalesce(array_agg(x."table" ORDER BY x.n), '{}'), coalesce(array_agg(x.key ORDER BY x.n), '{}'),
         coalesce(array_agg(x.hint ORDER BY x.n), '{}'), coalesce(array_agg(x.creates ORDER BY x.n), '{}'),
         coalesce(array_agg(x.related_table ORDER BY x.n), '{}'), coalesce(array_agg(x.related_key ORDER BY x.n), '{}'),
         coalesce(array_agg(x."column" ORDER BY x.n), '{}'), coalesce(array_agg(x.aspect ORDER BY x.n), '{}'),
         coalesce(array_agg(x.aspect_key ORDER BY x.n), '{}'), coalesce(array_agg(x.value ORDER BY x.n), '{}')
    INTO i_n, i_source, i_table, i_key, i_hint, i_creates, i_rtable, i_rkey, i_column, i_aspect, i_akey, i_value
    FROM jsonb_to_recordset(p_items) AS x(n integer, source text, "table" text, key text, hint uuid, creates boolean,
                                          related_table text, related_key text, "column" text, aspect text,
                                          aspect_key text, value text);

  -- 1. Values cast to their column's type, canonical text or the error,
  --    before anything is written: an item whose value does not fit creates
  --    nothing. (A Link's value is its related record's id, known later.)
  FOR grp IN
    SELECT i.t, i.c, array_agg(i.n ORDER BY i.n) AS ns, array_agg(i.v ORDER BY i.n) AS vs
      FROM unnest(i_n, i_table, i_column, i_value, i_rtable) AS i(n, t, c, v, rt)
     WHERE i.rt IS NULL AND i.v IS NOT NULL
     GROUP BY i.t, i.c ORDER BY i.t, i.c
  LOOP
    tgt := integration.resolve_target(grp.t);
    SELECT can_n || coalesce(array_agg(grp.ns[cv.ord] ORDER BY cv.ord), '{}'),
           can_v || coalesce(array_agg(coalesce(cv.canonical, '') ORDER BY cv.ord), '{}'),
           can_err || coalesce(array_agg(cv.error ORDER BY cv.ord), '{}')
      INTO can_n, can_v, can_err
      FROM integration.canonical_values(format('%I.%I', tgt.rel_schema, tgt.rel_name)::regclass, grp.c::name,
                                        grp.vs, NULL) cv;
  END LOOP;

  -- 2. The records: each item's own, and a Link's related one; created when
  --    an item whose value fits may create it.
  WITH bad AS (SELECT e.n FROM unnest(can_n, can_err) AS e(n, err) WHERE e.err IS NOT NULL),
  named AS (
    SELECT i.n, i.s, i.t, i.k, i.h, i.c AND i.n NOT IN (SELECT bad.n FROM bad) AS c, false AS related
      FROM unnest(i_n, i_source, i_table, i_key, i_hint, i_creates) AS i(n, s, t, k, h, c)
    UNION ALL
    SELECT i.n, i.s, i.rt, i.rk, NULL, i.n NOT IN (SELECT bad.n FROM bad), true
      FROM unnest(i_n, i_source, i_rtable, i_rkey) AS i(n, s, rt, rk)
     WHERE i.rk IS NOT NULL
  ), records AS (
    SELECT row_number() OVER (ORDER BY min(named.n), named.t, named.s, named.k)::integer AS r,
           named.s, named.t, named.k,
           (array_agg(named.h ORDER BY named.n) FILTER (WHERE named.h IS NOT NULL AND NOT named.related))[1] AS h,
           bool_or(named.c) AS c
      FROM named GROUP BY named.s, named.t, named.k
  )
  SELECT jsonb_agg(jsonb_build_object('n', r.r, 'source', r.s, 'table', r.t, 'key', r.k, 'hint', r.h, 'creates', r.c)),
         (SELECT array_agg(rr.r ORDER BY i.n) FROM unnest(i_n, i_source, i_table, i_key) AS i(n, s, t, k)
            JOIN records rr ON rr.s = i.s AND rr.t = i.t AND rr.k = i.k),
         (SELECT array_agg(rr.r ORDER BY i.n) FROM unnest(i_n, i_source, i_rtable, i_rkey) AS i(n, s, t, k)
            LEFT JOIN records rr ON rr.s = i.s AND rr.t = i.t AND rr.k = i.k)
    INTO rec, it_rec, it_rel
    FROM records r;
  SELECT coalesce(array_agg(x.n ORDER BY x.n), '{}'), coalesce(array_agg(x.target_id ORDER BY x.n), '{}'),
         coalesce(array_agg(x.found ORDER BY x.n), '{}'), coalesce(array_agg(x.created ORDER BY x.n), '{}')
    INTO r_n, r_id, r_found, r_created
    FROM integration.resolve_records(coalesce(rec, '[]')) x;

  -- 3. Per item: its record, and its column value (a Link's: the related
  --    record's id).
  SELECT coalesce(array_agg(i.t ORDER BY i.n), '{}'),
         coalesce(array_agg(r_id[i.r] ORDER BY i.n), '{}'),
         coalesce(array_agg(r_found[i.r] ORDER BY i.n), '{}'),
         coalesce(array_agg(r_created[i.r] ORDER BY i.n), '{}'),
         coalesce(array_agg(CASE WHEN i.rt IS NOT NULL THEN r_id[i.rel]::text
                                 WHEN cn.n IS NOT NULL AND cn.err IS NULL THEN cn.v ELSE i.v END ORDER BY i.n), '{}'),
         coalesce(array_agg(cn.err ORDER BY i.n), '{}')
    INTO it_t, it_id, it_found, it_new, it_v, it_err
    FROM unnest(i_n, i_table, i_value, i_rtable, it_rec, it_rel) AS i(n, t, v, rt, r, rel)
    LEFT JOIN unnest(can_n, can_v, can_err) AS cn(n, v, err) ON cn.n = i.n;

  -- 4. Lock the target rows, table by table in (table, id) order, and read
  --    the items' columns as canonical text.
  FOR tbl IN SELECT DISTINCT u.t FROM unnest(it_t, it_found) AS u(t, f) WHERE u.f ORDER BY 1 LOOP
    tgt := integration.resolve_target(tbl);
    cols := ARRAY(SELECT DISTINCT u.c FROM unnest(it_t, it_found, i_column) AS u(t, f, c) WHERE u.t = tbl AND u.f ORDER BY 1);
    ids := ARRAY(SELECT DISTINCT u.id FROM unnest(it_t, it_id, it_found) AS u(t, id, f) WHERE u.t = tbl AND u.f ORDER BY 1);
    SELECT array_agg(u.id ORDER BY u.n), array_agg(array_position(cols, u.c) ORDER BY u.n), array_agg(u.n ORDER BY u.n)
      INTO x_id, x_col, x_n
      FROM unnest(i_n, it_t, it_id, it_found, i_column) AS u(n, t, id, f, c)
     WHERE u.t = tbl AND u.f;
    EXECUTE format(
      'WITH locked AS MATERIALIZED ('
      '  SELECT t.%1$I AS id, ARRAY[%4$s]::text[] AS v FROM %2$I.%3$I t'
      '   WHERE t.%1$I = ANY ($1) ORDER BY t.%1$I FOR NO KEY UPDATE)'
      'SELECT coalesce(array_agg(x.n), ''{}''), coalesce(array_agg(coalesce(l.v[x.c], '''')), ''{}''),'
      '       coalesce(array_agg(l.v[x.c] IS NULL), ''{}'')'
      '  FROM unnest($2::uuid[], $3::integer[], $4::integer[]) AS x(id, c, n) JOIN locked l ON l.id = x.id',
      tgt.id_col, tgt.rel_schema, tgt.rel_name,
      (SELECT string_agg(format('t.%I::text', u.c), ', ' ORDER BY u.o) FROM unnest(cols) WITH ORDINALITY AS u(c, o)))
      INTO part_n, part_v, part_vn
      USING ids, x_id, x_col, x_n;
    cur_n := cur_n || part_n;
    cur_v := cur_v || part_v;
    cur_vn := cur_vn || part_vn;
  END LOOP;

  -- 5. Equality with the current value on the column's type, one call per
  --    column (the values are canonical by now, so they cast).
  FOR grp IN
    SELECT u.t, u.c, array_agg(u.n ORDER BY u.n) AS ns, array_agg(u.v ORDER BY u.n) AS vs,
           array_agg(CASE WHEN cu.vn THEN NULL ELSE cu.v END ORDER BY u.n) AS cs
      FROM unnest(i_n, it_t, i_column, it_found, it_v, it_err) AS u(n, t, c, f, v, err)
      JOIN unnest(cur_n, cur_v, cur_vn) AS cu(n, v, vn) ON cu.n = u.n
     WHERE u.f AND u.v IS NOT NULL AND u.err IS NULL
     GROUP BY u.t, u.c ORDER BY u.t, u.c
  LOOP
    tgt := integration.resolve_target(grp.t);
    SELECT same_n || coalesce(array_agg(grp.ns[cv.ord] ORDER BY cv.ord), '{}'),
           same_v || coalesce(array_agg(coalesce(cv.same, false) ORDER BY cv.ord), '{}')
      INTO same_n, same_v
      FROM integration.canonical_values(format('%I.%I', tgt.rel_schema, tgt.rel_name)::regclass, grp.c::name,
                                        grp.vs, grp.cs) cv;
  END LOOP;

  -- 6. Held duplicates: the item's source's entries for the aspect that wait
  --    for a steward (Pending, not applied) with a value equal to the item's,
  --    on the column's type (a Delete's: 'deleted'). Records created by this
  --    call have none.
  FOR grp IN
    SELECT u.t, u.c, u.a, array_agg(u.n ORDER BY u.n, l.ledger_id) AS ns, array_agg(u.v ORDER BY u.n, l.ledger_id) AS vs,
           array_agg(l.value ORDER BY u.n, l.ledger_id) AS hs, array_agg(l.ledger_id ORDER BY u.n, l.ledger_id) AS ls
      FROM unnest(i_n, it_t, it_id, it_found, it_new, i_source, i_column, i_aspect, i_akey, it_v, it_err)
           AS u(n, t, id, f, c_new, s, c, a, k, v, err)
     CROSS JOIN LATERAL (SELECT l.ledger_id, l.value FROM integration.ledger l
                          WHERE l.target_table = u.t AND l.target_id = u.id AND l.aspect_key = u.k
                            AND l.source_system_key = u.s AND l.ledger_status = 'Pending' AND NOT l.is_applied
                         OFFSET 0) l
     WHERE u.f AND NOT u.c_new AND u.err IS NULL
     GROUP BY u.t, u.c, u.a ORDER BY u.t, u.c, u.a
  LOOP
    IF grp.a = 'Record' THEN
      SELECT dup_n || coalesce(array_agg(d.n), '{}'), dup_l || coalesce(array_agg(d.l), '{}')
        INTO dup_n, dup_l
        FROM unnest(grp.ns, grp.hs, grp.ls) AS d(n, h, l) WHERE d.h = 'deleted';
    ELSE
      tgt := integration.resolve_target(grp.t);
      SELECT dup_n || coalesce(array_agg(grp.ns[cv.ord] ORDER BY cv.ord), '{}'),
             dup_l || coalesce(array_agg(grp.ls[cv.ord] ORDER BY cv.ord), '{}')
        INTO dup_n, dup_l
        FROM integration.canonical_values(format('%I.%I', tgt.rel_schema, tgt.rel_name)::regclass, grp.c::name,
                                          grp.vs, grp.hs) cv
       WHERE cv.same;
    END IF;
  END LOOP;

  -- 7. Per item: the answer, with the aspect's owner (stale under its
  --    policy?) and the source's order marks.
  RETURN QUERY
  SELECT u.n,
         CASE WHEN u.f THEN u.id END,
         u.f AND u.c_new,
         NOT u.f AND (u.cr OR i_hint[u.n_ord] IS NOT NULL) AND u.err IS NULL,
         CASE WHEN u.rel IS NOT NULL AND r_found[u.rel] THEN r_id[u.rel] END,
         coalesce(u.rel IS NOT NULL AND r_found[u.rel] AND r_created[u.rel], false),
         coalesce(u.rel IS NOT NULL AND NOT r_found[u.rel] AND u.err IS NULL, false),
         CASE WHEN u.a = 'Record' THEN 'deleted' ELSE u.v END,
         u.err,
         CASE WHEN u.a = 'Record' THEN CASE WHEN cu.v = 'false' AND NOT cu.vn THEN 'deleted' END
              WHEN cu.vn THEN NULL ELSE cu.v END,
         CASE WHEN u.v IS NULL THEN coalesce(cu.vn, true) ELSE coalesce(sm.same, false) END,
         o.ledger_id, o.source_system_key, integration.is_stale(o.stale_clock, p.stale_after_days, at),
         (SELECT min(d.l) FROM unnest(dup_n, dup_l) AS d(n, l) WHERE d.n = u.n),
         so.ts_max, so.ts_submit, so.ts_seq, so.any_submit, so.any_seq, so.nots_submit, so.nots_seq
    FROM unnest(i_n, it_t, it_id, it_found, it_new, i_source, i_aspect, i_akey, it_v, it_err, it_rel, i_creates)
         WITH ORDINALITY AS u(n, t, id, f, c_new, s, a, k, v, err, rel, cr, n_ord)
    LEFT JOIN unnest(cur_n, cur_v, cur_vn) AS cu(n, v, vn) ON cu.n = u.n
    LEFT JOIN unnest(same_n, same_v) AS sm(n, same) ON sm.n = u.n
    LEFT JOIN LATERAL (SELECT e.ledger_id, e.source_system_key, integration.stale_clock(e) AS stale_clock
                         FROM integration.owner_entry(u.t, u.id, u.k) e WHERE u.f AND NOT u.c_new) o ON true
    LEFT JOIN LATERAL integration.aspect_policy(u.t, u.a, u.k) p ON true
    LEFT JOIN LATERAL (SELECT so.* FROM integration.source_order so
                        WHERE u.f AND NOT u.c_new AND so.target_table = u.t AND so.target_id = u.id AND so.aspect_key = u.k
                          AND so.source_system_key = u.s LIMIT 1) so ON true
   ORDER BY u.n;
END
$$;
SELECT integration.use_canonical_settings('integration.prepare_chunk(uuid,bigint[],bigint,jsonb)');

-- apply_chunk(token, jobs, creations, items): the set-based write of a round,
-- in the transaction that prepare_chunk began (its locks are held), or alone
-- to record failures. In order: fences the claim's jobs (SL060); writes the
-- target columns of the applied items (one UPDATE per table, all columns of
-- a record in one row update); inserts the ledger entries — a Record entry
-- 'created' for each record the round created, then one per applied or held
-- item — each applied one taking the next apply_seq under the row locks, and
-- certified at once where its policy auto-certifies (its state at birth,
-- which its digest covers, says so: no event is needed for it);
-- seals them into their records' chains; moves the staleness clock
-- (confirmed_at) of the entries the items confirm; stores the source order
-- marks; records every item's result (only Pending items of the fenced jobs);
-- and fans applied values out to subscribers. Returns the number of items
-- whose result was recorded.
--
-- Each element of `creations` is a record the round created: table,
-- target_id, source, job_id. Each element of `items` is one item's decision:
--   item_id, job_id, source, source_timestamp
--   verdict       applied, held, skipped or failed; message: its
--                 process_message (null for applied)
--   refusal       for an item the database refused: what it said in full
--                 (sql_state, message, detail, hint, context) for
--                 integration.item_refusal; null otherwise
--   table, target_id, aspect, aspect_key, column   its aspect (target_id null
--                 when it resolved to no record)
--   value, previous   in the ledger's form, as prepare_chunk returned them
--   confirm       a ledger entry whose confirmed_at moves, or null
--   marks         the source's order marks for the aspect after the item
--                 (ts_max, ts_submit, ts_seq, any_submit, any_seq,
--                 nots_submit, nots_seq), or null when they do not change
CREATE OR REPLACE FUNCTION integration.apply_chunk(
  p_token     uuid,
  p_jobs      bigint[],
  p_creations jsonb,
  p_items     jsonb)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
-- Planner settings: see "Plans" at the top of this file.
SET enable_seqscan = off SET enable_nestloop = off SET jit = off
AS $$
DECLARE
  at         timestamptz := now();
  lids       bigint[];
  e_item     bigint[];
  updated    integer;
  ledger_seq regclass := pg_get_serial_sequence('integration.ledger', 'ledger_id')::regclass;
  event_seq  regclass := pg_get_serial_sequence('integration.ledger_event', 'event_id')::regclass;
BEGIN
  PERFORM integration.fence_chunk(p_token, p_jobs);

  -- 1. The target columns of the applied items (targets.sql: one row update
  --    per record).
  PERFORM integration.write_targets(coalesce(
    (SELECT jsonb_agg(jsonb_build_object('n', x.o, 'table', x."table", 'target_id', x.target_id, 'aspect', x.aspect,
                                         'aspect_key', x.aspect_key, 'value', x.value))
       FROM ROWS FROM (jsonb_to_recordset(p_items)
                       AS (verdict text, "table" text, target_id uuid, aspect text, aspect_key text, value text))
            WITH ORDINALITY AS x(verdict, "table", target_id, aspect, aspect_key, value, o)
      WHERE x.verdict = 'applied'), '[]'));

  -- 2. Ledger entries, their events and the chain: each entry (version 2:
  --    its digest covers its state at insert) and, where the policy certified
  --    it, the policy's event; then the events of the confirmed entries whose
  --    staleness clock moves (unchanged values re-sent by their owner, held
  --    duplicates folded; never backwards); all sealed with one link per
  --    record. Certified at ingest only where the policy auto-certifies: the
  --    status is decided here, from the policy, never taken from the caller.
  WITH d AS MATERIALIZED (
    SELECT nextval(ledger_seq) AS ledger_id, e.*,
           CASE WHEN e.applied THEN nextval('integration.apply_seq') END AS aseq,
           CASE WHEN e.applied AND coalesce(p.auto_certify, false) THEN 'Certified' ELSE 'Pending' END AS status
      FROM (SELECT c.o, NULL::bigint AS item, c.job_id AS job, c."table" AS t, c.target_id AS id, 'Record' AS aspect,
                   'record' AS akey, c.source, 'created' AS value, NULL::text AS prev, true AS applied,
                   NULL::timestamptz AS ts, NULL::text AS held_for
              FROM ROWS FROM (jsonb_to_recordset(p_creations) AS (job_id bigint, "table" text, target_id uuid, source text))
                   WITH ORDINALITY AS c(job_id, "table", target_id, source, o)
            UNION ALL
            SELECT 1000000 + x.o, x.item_id, x.job_id, x."table", x.target_id, x.aspect, x.aspect_key, x.source, x.value,
                   x.previous, x.verdict = 'applied', x.source_timestamp, x.hold_reason
              FROM ROWS FROM (jsonb_to_recordset(p_items)
                              AS (item_id bigint, job_id bigint, "table" text, target_id uuid, aspect text, aspect_key text,
                                  source text, value text, previous text, verdict text, source_timestamp timestamptz,
                                  hold_reason text))
                   WITH ORDINALITY AS x(item_id, job_id, "table", target_id, aspect, aspect_key, source, value, previous,
                                        verdict, source_timestamp, hold_reason, o)
             WHERE x.verdict IN ('applied', 'held')) e
      LEFT JOIN LATERAL integration.aspect_policy(e.t, e.aspect, e.akey) p ON true
     ORDER BY e.o
  ), ev AS MATERIALIZED (
    SELECT d.*, CASE WHEN d.status = 'Pending' THEN coalesce(d.held_for, 'not_auto_certified') END AS reason
      FROM d ORDER BY d.o
  ), cf AS MATERIALIZED (
    SELECT nextval(event_seq) AS event_id, l.*
      FROM (SELECT l.ledger_id, l.target_table, l.target_id, l.ledger_status, l.is_applied, l.apply_seq, l.applied_at,
                   l.certified_at, l.certified_by
              FROM integration.ledger l
             WHERE l.ledger_id = ANY (ARRAY(SELECT x.confirm FROM jsonb_to_recordset(p_items) AS x(confirm bigint)
                                             WHERE x.confirm IS NOT NULL))
               AND l.ledger_status IN ('Pending', 'Certified')
               AND (l.confirmed_at IS NULL OR l.confirmed_at < at)
             ORDER BY l.ledger_id) l
  ), el AS MATERIALIZED (
    -- Each entry, in order; then the confirmations.
    SELECT row_number() OVER (ORDER BY e.grp, e.ord)::integer AS k, e.*
      FROM (SELECT 0 AS grp, ev.o AS ord, ev.t, ev.id,
                   integration.entry_digest_v2(ev.ledger_id, ev.t, ev.id, ev.aspect, ev.akey, ev.source, ev.value, ev.prev,
                                               ev.item, ev.job, ev.ts, at, ev.status, ev.aseq, NULL, ev.reason, NULL,
                                               NULL) AS h
              FROM ev
            UNION ALL
            SELECT 1, cf.ledger_id, cf.target_table, cf.target_id,
                   integration.event_digest_v2(cf.event_id, cf.ledger_id, 'confirmation', cf.ledger_status, cf.ledger_status, 'worker',
                                               session_user, at, 'confirmed: the source sent this value again', NULL,
                                               NULL, NULL, NULL, cf.is_applied, cf.apply_seq, cf.applied_at, at,
                                               cf.certified_at, cf.certified_by)
              FROM cf) e
  ), chained AS MATERIALIZED (
    SELECT el.grp, el.ord, el.h, c.chain_seq, c.chain_hash
      FROM integration.chain_append(ARRAY(SELECT el.t FROM el ORDER BY el.k),
                                    ARRAY(SELECT el.id FROM el ORDER BY el.k),
                                    ARRAY(SELECT el.h FROM el ORDER BY el.k)) c
      JOIN el ON el.k = c.ord
  ), entries AS (
    INSERT INTO integration.ledger
      (ledger_id, target_table, target_id, ledger_aspect, aspect_key, source_system_key, ledger_status, value,
       previous_value, is_applied, applied_at, apply_seq, sync_item_id, job_id, source_timestamp, recorded_at,
       confirmed_at, certified_at, chain_seq, row_hash, chain_hash, birth_status, birth_apply_seq, hold_reason)
    OVERRIDING SYSTEM VALUE
    SELECT ev.ledger_id, ev.t, ev.id, ev.aspect, ev.akey, ev.source, ev.status, ev.value, ev.prev, ev.applied,
           CASE WHEN ev.applied THEN at END, ev.aseq, ev.item, ev.job, ev.ts, at,
           CASE WHEN ev.applied THEN at END, CASE WHEN ev.status = 'Certified' THEN at END,
           c.chain_seq, c.h, c.chain_hash, ev.status, ev.aseq, ev.reason
      FROM ev JOIN chained c ON c.grp = 0 AND c.ord = ev.o
     ORDER BY ev.o
    RETURNING ledger_id
  ), events AS (
    INSERT INTO integration.ledger_event
      (event_id, ledger_id, kind, from_status, to_status, actor, acting_role, occurred_at, notes, chain_seq, row_hash, chain_hash,
       after_applied, after_apply_seq, after_applied_at, after_confirmed_at, after_certified_at, after_certified_by)
    OVERRIDING SYSTEM VALUE
    SELECT cf.event_id, cf.ledger_id, 'confirmation', cf.ledger_status, cf.ledger_status, 'worker', session_user, at,
           'confirmed: the source sent this value again', c.chain_seq, c.h, c.chain_hash, cf.is_applied, cf.apply_seq,
           cf.applied_at, at, cf.certified_at, cf.certified_by
      FROM cf JOIN chained c ON c.grp = 1 AND c.ord = cf.ledger_id
  ), confirmed AS (
    UPDATE integration.ledger l SET confirmed_at = at FROM cf WHERE l.ledger_id = cf.ledger_id
  )
  SELECT coalesce(array_agg(ev.ledger_id ORDER BY ev.o), '{}'), coalesce(array_agg(ev.item ORDER BY ev.o), '{}')
    INTO lids, e_item
    FROM ev
   WHERE (SELECT count(*) FROM entries) >= 0;

  -- 4. Source order marks.
  INSERT INTO integration.source_order AS o
    (target_table, target_id, aspect_key, source_system_key, ts_max, ts_submit, ts_seq, any_submit, any_seq,
     nots_submit, nots_seq)
  SELECT x."table", x.target_id, x.aspect_key, x.source, (x.marks->>'ts_max')::timestamptz,
         (x.marks->>'ts_submit')::bigint, (x.marks->>'ts_seq')::bigint, (x.marks->>'any_submit')::bigint,
         (x.marks->>'any_seq')::bigint, (x.marks->>'nots_submit')::bigint, (x.marks->>'nots_seq')::bigint
    FROM jsonb_to_recordset(p_items) AS x("table" text, target_id uuid, aspect_key text, source text, marks jsonb)
   WHERE x.marks IS NOT NULL AND x.target_id IS NOT NULL
   ORDER BY 1, 2, 3, 4
  ON CONFLICT (target_table, target_id, aspect_key, source_system_key) DO UPDATE
     SET ts_max = excluded.ts_max, ts_submit = excluded.ts_submit, ts_seq = excluded.ts_seq,
         any_submit = excluded.any_submit, any_seq = excluded.any_seq,
         nots_submit = excluded.nots_submit, nots_seq = excluded.nots_seq;

  -- 5. Item results, only for Pending items of the fenced jobs.
  UPDATE integration.sync_item i
     SET item_status     = CASE x.verdict WHEN 'applied' THEN 'Applied' WHEN 'held' THEN 'Held'
                                          WHEN 'skipped' THEN 'Skipped' ELSE 'Failed' END,
         process_message = x.message,
         target_id       = coalesce(x.target_id, i.target_id),
         applied_at      = CASE WHEN x.verdict = 'applied' THEN at END,
         ledger_id       = e.ledger_id
    FROM jsonb_to_recordset(p_items) AS x(item_id bigint, verdict text, message text, target_id uuid)
    LEFT JOIN unnest(e_item, lids) AS e(item, ledger_id) ON e.item = x.item_id
   WHERE i.item_id = x.item_id
     AND i.item_id = ANY (ARRAY(SELECT y.item_id FROM jsonb_to_recordset(p_items) AS y(item_id bigint)))
     AND i.item_status = 'Pending' AND i.job_id = ANY (p_jobs);
  GET DIAGNOSTICS updated = ROW_COUNT;

  -- 5b. What the database said in full about an item it refused (item.refusal:
  --     sql_state, message, detail, hint, context), for stewards and operators;
  --     the item's process_message names only the trigger or constraint.
  INSERT INTO integration.item_refusal AS r (item_id, job_id, sql_state, message, detail, hint, context, recorded_at)
  SELECT x.item_id, x.job_id, x.refusal->>'sql_state', x.refusal->>'message', x.refusal->>'detail', x.refusal->>'hint',
         x.refusal->>'context', at
    FROM jsonb_to_recordset(p_items) AS x(item_id bigint, job_id bigint, refusal jsonb)
   WHERE x.refusal IS NOT NULL AND x.job_id = ANY (p_jobs)
  ON CONFLICT (item_id) DO UPDATE
     SET job_id = excluded.job_id, sql_state = excluded.sql_state, message = excluded.message, detail = excluded.detail,
         hint = excluded.hint, context = excluded.context, recorded_at = excluded.recorded_at;

  -- 6. Outbound: applied field and relationship values go to their
  --    subscribers (if the table has any).
  IF EXISTS (SELECT FROM jsonb_to_recordset(p_items) AS x(verdict text, aspect text, "table" text)
              WHERE x.verdict = 'applied' AND x.aspect <> 'Record'
                AND EXISTS (SELECT FROM integration.subscription s WHERE s.target_table = x."table")) THEN
    PERFORM integration.enqueue_outbound(ARRAY(
      SELECT e.ledger_id FROM unnest(e_item, lids) AS e(item, ledger_id)
        JOIN jsonb_to_recordset(p_items) AS x(item_id bigint, verdict text, aspect text) ON x.item_id = e.item
       WHERE x.verdict = 'applied' AND x.aspect <> 'Record'));
  END IF;

  RETURN updated;
END
$$;
SELECT integration.use_canonical_settings('integration.apply_chunk(uuid,bigint[],jsonb,jsonb)');

-- ---------------------------------------------------------------------------
-- The provenance invariant
-- ---------------------------------------------------------------------------

-- provenance_violations(): every governed value that its ledger does not
-- explain, in all three aspects, over every row of every registered target
-- table (SPEC §2, The invariant; §6). Empty on a healthy database.
--
--   mismatch  the aspect has an owner and the target's value differs from
--             the owner's, compared on the column's type (Record: the active
--             column must be false for an owner 'deleted', not false for
--             'created').
--   orphan    a non-null value of a governed field or relationship (one a
--             commit policy names) that no entry owns: on a record with no
--             ledger rows at all, on a record syncledger created, and on a
--             record that existed before syncledger linked it, unless it is
--             the value the aspect's first entry found there (its
--             previous_value: the value from before the ledger).
--
-- Set-based: per table, one pass over its ledger rows (owners and first
-- entries) and one over its rows, every governed column compared in the same
-- pass. Values are shown as canonical text.
CREATE OR REPLACE FUNCTION integration.provenance_violations()
RETURNS TABLE (target_table   text,
               target_id      uuid,
               aspect_key     text,
               current_value  text,
               expected_value text,
               ledger_id      bigint,
               violation      text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET work_mem = '512MB' SET jit = off
AS $$
DECLARE
  reg   record;
  t     record;
  joins text;
  vals  text;
BEGIN
  FOR reg IN SELECT tt.target_table AS tbl FROM integration.target_table tt ORDER BY 1 LOOP
    BEGIN
      t := integration.resolve_target(reg.tbl);
    EXCEPTION WHEN sqlstate 'SL050' THEN
      CONTINUE; -- a table dropped since: nothing left to compare
    END;
    -- The governed columns that still exist, with their types.
    SELECT string_agg(format(
             ' LEFT JOIN o o%1$s ON o%1$s.target_id = t.%2$I AND o%1$s.aspect_key = %3$L'
             ' LEFT JOIN f f%1$s ON f%1$s.target_id = t.%2$I AND f%1$s.aspect_key = %3$L', c.n, t.id_col, c.col), '' ORDER BY c.n),
           string_agg(format(
             '(%1$L, t.%2$I::text, o%3$s.value, coalesce(o%3$s.ledger_id, f%3$s.ledger_id),'
             ' CASE WHEN o%3$s.ledger_id IS NOT NULL'
             '      THEN CASE WHEN t.%2$I IS DISTINCT FROM (o%3$s.value)::%4$s THEN ''mismatch'' END'
             '      WHEN t.%2$I IS NULL THEN NULL'
             '      WHEN cr.target_id IS NULL AND f%3$s.ledger_id IS NOT NULL'
             '           AND t.%2$I IS NOT DISTINCT FROM (f%3$s.previous_value)::%4$s THEN NULL'
             '      ELSE ''orphan'' END, f%3$s.previous_value)',
             c.col, c.col, c.n, c.typ), ', ' ORDER BY c.n)
      INTO joins, vals
      FROM (SELECT row_number() OVER (ORDER BY a.attname) AS n, a.attname::text AS col,
                   format_type(a.atttypid, a.atttypmod) AS typ
              FROM integration.commit_policy p
              JOIN pg_attribute a ON a.attrelid = format('%I.%I', t.rel_schema, t.rel_name)::regclass
                                 AND a.attname = p.field_name AND a.attnum > 0 AND NOT a.attisdropped
             WHERE p.target_table = reg.tbl AND p.field_name IS NOT NULL AND p.field_name <> t.id_col) c;

    IF vals IS NOT NULL THEN
      RETURN QUERY EXECUTE format(
        $q$WITH o AS MATERIALIZED (
              SELECT DISTINCT ON (l.target_id, l.aspect_key) l.target_id, l.aspect_key, l.value, l.ledger_id
                FROM integration.ledger l
               WHERE l.target_table = $1 AND l.ledger_aspect IN ('Field', 'Relationship')
                 AND l.is_applied AND l.ledger_status IN ('Pending', 'Certified')
               ORDER BY l.target_id, l.aspect_key, l.apply_seq DESC),
            f AS MATERIALIZED (
              SELECT DISTINCT ON (l.target_id, l.aspect_key) l.target_id, l.aspect_key, l.previous_value, l.ledger_id
                FROM integration.ledger l
               WHERE l.target_table = $1 AND l.ledger_aspect IN ('Field', 'Relationship')
               ORDER BY l.target_id, l.aspect_key, l.ledger_id),
            cr AS MATERIALIZED (
              SELECT DISTINCT l.target_id FROM integration.ledger l
               WHERE l.target_table = $1 AND l.ledger_aspect = 'Record' AND l.value = 'created')
         SELECT $1, t.%3$I, x.col, x.cur, CASE WHEN x.kind = 'mismatch' THEN x.exp ELSE x.prev END, x.lid, x.kind
           FROM %1$I.%2$I t
           LEFT JOIN cr ON cr.target_id = t.%3$I
           %4$s
          CROSS JOIN LATERAL (VALUES %5$s) AS x(col, cur, exp, lid, kind, prev)
          WHERE x.kind IS NOT NULL
          ORDER BY 2, 3$q$,
        t.rel_schema, t.rel_name, t.id_col, joins, vals)
      USING reg.tbl;
    END IF;

    -- Records: the active column against the owner of the Record aspect.
    CONTINUE WHEN t.active_col IS NULL;
    RETURN QUERY EXECUTE format(
      $q$WITH o AS MATERIALIZED (
            SELECT DISTINCT ON (l.target_id) l.target_id, l.value, l.ledger_id
              FROM integration.ledger l
             WHERE l.target_table = $1 AND l.aspect_key = 'record' AND l.ledger_aspect = 'Record'
               AND l.is_applied AND l.ledger_status IN ('Pending', 'Certified')
             ORDER BY l.target_id, l.apply_seq DESC)
       SELECT $1, t.%4$I, 'record', CASE WHEN t.%1$I IS FALSE THEN 'deleted' ELSE 'created' END, o.value, o.ledger_id, 'mismatch'
         FROM o JOIN %2$I.%3$I t ON t.%4$I = o.target_id
        WHERE (CASE WHEN t.%1$I IS FALSE THEN 'deleted' ELSE 'created' END) IS DISTINCT FROM o.value
        ORDER BY 2$q$,
      t.active_col, t.rel_schema, t.rel_name, t.id_col)
    USING reg.tbl;
  END LOOP;
END
$$;
SELECT integration.use_canonical_settings('integration.provenance_violations()');
