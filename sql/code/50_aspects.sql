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
--   target write  apply_chunk (the worker, set-based) and write_target
--                 (targets.sql: one aspect, for the steward functions).
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

-- prepare_chunk(...): the first statement of every chunk transaction. In
-- order: checks the configuration version (SL061) and fences the claim's jobs
-- (SL060, jobs.sql); resolves the chunk's records through the crosswalk
-- (SPEC §2 step 2: known keys get last_seen_at; new keys get an identifier
-- and, unless the hint names an existing record, a new record; identifiers
-- are locked in id order and inserted in key order, so concurrent chunks
-- never deadlock on them, and only the transaction whose identifier insert
-- won creates the record); locks the items' target rows FOR NO KEY UPDATE in
-- (table, id) order; and reads, per item, what governance needs: the
-- proposed value in canonical text (or its cast error) and whether it equals
-- the current value on the column's type, the current value, the aspect's
-- owner and whether it is stale, the item's source's order marks for the
-- aspect, and that source's held entries for it. One call, one row.
--
-- Records: k_* (one per distinct source, table and external key). Items:
-- i_key is the index of the item's record in k_*, i_creates whether the item
-- may create it (false for Delete), i_related the index of a Link's related
-- record (0: none; the proposed value is then that record's id), i_column the
-- column read (the field, or the active column for Delete). Values that do
-- not cast to their column's type are found first: such an item creates
-- nothing (its record is created only if another item needs it).
CREATE OR REPLACE FUNCTION integration.prepare_chunk(
  p_token          uuid,
  p_jobs           bigint[],
  p_config_version bigint,
  k_source         text[],
  k_table          text[],
  k_key            text[],
  k_hint           uuid[],
  k_hint_null      boolean[],
  i_key            integer[],
  i_creates        boolean[],
  i_related        integer[],
  i_column         text[],
  i_aspect         text[],
  i_aspect_key     text[],
  i_value          text[],
  i_value_null     boolean[])
RETURNS TABLE (
  at                timestamptz,
  key_target        uuid[],
  key_found         boolean[],
  key_created       boolean[],
  item_value        text[],
  item_value_null   boolean[],
  item_error        text[],
  item_current      text[],
  item_current_null boolean[],
  item_same         boolean[],
  item_owner        bigint[],
  item_owner_source text[],
  item_owner_stale  boolean[],
  item_ts_max       timestamptz[],
  item_ts_null      boolean[],
  item_ts_submit    bigint[],
  item_ts_seq       bigint[],
  item_any_submit   bigint[],
  item_any_seq      bigint[],
  item_nots_submit  bigint[],
  item_nots_seq     bigint[],
  held_item         integer[],
  held_ledger       bigint[],
  held_value        text[],
  held_value_null   boolean[])
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
-- Planner settings: see "Plans" at the top of this file.
SET enable_seqscan = off SET enable_nestloop = off SET jit = off
AS $$
DECLARE
  zero      constant uuid := '00000000-0000-0000-0000-000000000000';
  k_create  boolean[];
  fenced    bigint[];
  ident_ids bigint[];
  vh_t      text[] := '{}';
  vh_id     uuid[] := '{}';
  new_ids   uuid[];
  fresh     boolean[];
  won       boolean[];
  tgt       record;
  tbl       text;
  grp       record;
  cols      text[];
  ids       uuid[];
  x_id      uuid[];
  x_col     integer[];
  x_n       bigint[];
  cur       text[];
  -- Per item, in order: the record's table, id, whether it resolved, the
  -- source, and the proposed value before canonicalisation.
  it_t      text[];
  it_id     uuid[];
  it_found  boolean[];
  it_new    boolean[];
  it_s      text[];
  it_v      text[];
  it_vn     boolean[];
  -- Current values read (item number, text, null), and canonical values.
  cur_n     bigint[] := '{}';
  cur_v     text[] := '{}';
  cur_vn    boolean[] := '{}';
  part_n    bigint[];
  part_v    text[];
  part_vn   boolean[];
  can_n     bigint[] := '{}';
  can_v     text[] := '{}';
  can_err   text[] := '{}';
  same_n    bigint[] := '{}';
  same_v    boolean[] := '{}';
BEGIN
  IF (SELECT v.version FROM integration.config_version v) IS DISTINCT FROM p_config_version THEN
    RAISE EXCEPTION 'the configuration changed since the worker loaded it' USING ERRCODE = 'SL061';
  END IF;
  fenced := integration.fence_jobs(p_token, p_jobs);
  IF cardinality(fenced) < (SELECT count(DISTINCT j) FROM unnest(p_jobs) j) THEN
    RAISE EXCEPTION 'the claim no longer holds job(s) %',
                    (SELECT string_agg(format('%s (%s)', j.job_id,
                                              CASE WHEN j.job_status = 'Processing' THEN 'now leased to ' || j.lease_owner
                                                   ELSE j.job_status END), ', ' ORDER BY j.job_id)
                       FROM integration.sync_job j WHERE j.job_id = ANY (p_jobs) AND j.job_id <> ALL (fenced))
      USING ERRCODE = 'SL060';
  END IF;
  at := now();

  -- 0. Set values cast to their column's type, canonical text or the error,
  --    before anything is written: an item whose value does not fit creates
  --    nothing.
  FOR grp IN
    SELECT k.t, i.col, array_agg(i.n ORDER BY i.n) AS ns, array_agg(i.v ORDER BY i.n) AS vs
      FROM unnest(i_key, i_related, i_column, i_value, i_value_null) WITH ORDINALITY AS i(key, rel, col, v, vn, n)
      JOIN unnest(k_table) WITH ORDINALITY AS k(t, n) ON k.n = i.key
     WHERE i.rel = 0 AND NOT i.vn
     GROUP BY k.t, i.col ORDER BY k.t, i.col
  LOOP
    tgt := integration.resolve_target(grp.t);
    SELECT can_n || coalesce(array_agg(grp.ns[cv.ord] ORDER BY cv.ord), '{}'),
           can_v || coalesce(array_agg(coalesce(cv.canonical, '') ORDER BY cv.ord), '{}'),
           can_err || coalesce(array_agg(cv.error ORDER BY cv.ord), '{}')
      INTO can_n, can_v, can_err
      FROM integration.canonical_values(format('%I.%I', tgt.rel_schema, tgt.rel_name)::regclass, grp.col::name,
                                        grp.vs, NULL) cv;
  END LOOP;

  -- Keys to create: those a valid item creates (its own, or a Link's related record).
  WITH bad AS (SELECT e.n FROM unnest(can_n, can_err) AS e(n, err) WHERE e.err IS NOT NULL),
       ok AS (SELECT i.key, i.c, i.rel FROM unnest(i_key, i_creates, i_related) WITH ORDINALITY AS i(key, c, rel, n)
               WHERE i.n NOT IN (SELECT bad.n FROM bad)),
       wanted AS (SELECT ok.key AS k FROM ok WHERE ok.c UNION SELECT ok.rel FROM ok WHERE ok.rel > 0)
  SELECT coalesce(array_agg(w.k IS NOT NULL ORDER BY k.n), '{}')
    INTO k_create
    FROM unnest(k_key) WITH ORDINALITY AS k(e, n)
    LEFT JOIN wanted w ON w.k = k.n;

  -- 1. Known keys; their identifiers locked (last_seen_at) in id order.
  SELECT coalesce(array_agg(coalesce(x.target_id, zero) ORDER BY k.n), '{}'),
         coalesce(array_agg(x.identifier_id IS NOT NULL ORDER BY k.n), '{}'),
         coalesce(array_agg(x.identifier_id) FILTER (WHERE x.identifier_id IS NOT NULL), '{}')
    INTO key_target, key_found, ident_ids
    FROM unnest(k_source, k_table, k_key) WITH ORDINALITY AS k(s, t, e, n)
    LEFT JOIN LATERAL (SELECT x.target_id, x.identifier_id FROM integration.identifier x
                        WHERE x.source_system_key = k.s AND x.target_table = k.t AND x.external_key = k.e LIMIT 1) x ON true;
  IF cardinality(ident_ids) > 0 THEN
    UPDATE integration.identifier x SET last_seen_at = at
      FROM (SELECT y.identifier_id FROM integration.identifier y
             WHERE y.identifier_id = ANY (ident_ids) ORDER BY y.identifier_id FOR NO KEY UPDATE) l
     WHERE x.identifier_id = l.identifier_id;
  END IF;
  key_created := array_fill(false, ARRAY[coalesce(cardinality(k_key), 0)]);

  -- 2. New keys: link to the hinted record when it exists, else a new record.
  IF EXISTS (SELECT FROM unnest(key_found, k_create) AS u(f, c) WHERE NOT u.f AND u.c) THEN
    FOR tbl IN SELECT DISTINCT u.t FROM unnest(k_table, key_found, k_create, k_hint_null) AS u(t, f, c, hn)
                WHERE NOT u.f AND u.c AND NOT u.hn LOOP
      tgt := integration.resolve_target(tbl);
      EXECUTE format('SELECT coalesce(array_agg(t.%1$I), ''{}'') FROM %2$I.%3$I t WHERE t.%1$I = ANY ($1)',
                     tgt.id_col, tgt.rel_schema, tgt.rel_name)
         INTO ids
         USING ARRAY(SELECT u.h FROM unnest(k_table, k_hint, k_hint_null, key_found, k_create) AS u(t, h, hn, f, c)
                      WHERE u.t = tbl AND NOT u.f AND u.c AND NOT u.hn);
      vh_t := vh_t || array_fill(tbl, ARRAY[cardinality(ids)]);
      vh_id := vh_id || ids;
    END LOOP;

    SELECT array_agg(CASE WHEN NOT k.f AND k.c THEN coalesce(v.id, gen_random_uuid()) ELSE zero END ORDER BY k.n),
           array_agg(NOT k.f AND k.c AND v.id IS NULL ORDER BY k.n)
      INTO new_ids, fresh
      FROM unnest(k_table, k_hint, k_hint_null, key_found, k_create) WITH ORDINALITY AS k(t, h, hn, f, c, n)
      LEFT JOIN (SELECT DISTINCT v.t, v.id FROM unnest(vh_t, vh_id) AS v(t, id)) v
        ON NOT k.hn AND v.t = k.t AND v.id = k.h;

    -- Inserted in key order; the ones this transaction won come back.
    WITH ins AS (
      INSERT INTO integration.identifier (source_system_key, target_table, external_key, target_id)
      SELECT k.s, k.t, k.e, k.id
        FROM unnest(k_source, k_table, k_key, new_ids, key_found, k_create) AS k(s, t, e, id, f, c)
       WHERE NOT k.f AND k.c
       ORDER BY k.t, k.s, k.e
      ON CONFLICT DO NOTHING
      RETURNING source_system_key AS s, target_table AS t, external_key AS e
    )
    SELECT array_agg(ins.s IS NOT NULL ORDER BY k.n) INTO won
      FROM unnest(k_source, k_table, k_key) WITH ORDINALITY AS k(s, t, e, n)
      LEFT JOIN ins ON ins.s = k.s AND ins.t = k.t AND ins.e = k.e;

    -- Records only for identifiers this transaction created, fresh ones only.
    FOR tbl IN SELECT DISTINCT u.t FROM unnest(k_table, won, fresh) AS u(t, w, f) WHERE u.w AND u.f ORDER BY 1 LOOP
      tgt := integration.resolve_target(tbl);
      EXECUTE format('INSERT INTO %I.%I (%I) SELECT unnest($1::uuid[])', tgt.rel_schema, tgt.rel_name, tgt.id_col)
        USING ARRAY(SELECT u.id FROM unnest(k_table, new_ids, won, fresh) AS u(t, id, w, f) WHERE u.t = tbl AND u.w AND u.f);
    END LOOP;
    SELECT array_agg(CASE WHEN u.w THEN u.nid ELSE u.kt END ORDER BY u.n),
           array_agg(u.kf OR u.w ORDER BY u.n),
           array_agg(u.w AND u.fr ORDER BY u.n)
      INTO key_target, key_found, key_created
      FROM unnest(key_target, key_found, new_ids, won, fresh) WITH ORDINALITY AS u(kt, kf, nid, w, fr, n);

    -- Lost races: the winner committed (we waited on its key): use its record.
    -- Not found at all: the hinted record already carries another identifier
    -- from this source (a conflict: key_found stays false).
    IF EXISTS (SELECT FROM unnest(key_found, k_create) AS u(f, c) WHERE NOT u.f AND u.c) THEN
      SELECT array_agg(CASE WHEN k.f THEN k.kt ELSE coalesce(x.target_id, zero) END ORDER BY k.n),
             array_agg(k.f OR x.target_id IS NOT NULL ORDER BY k.n)
        INTO key_target, key_found
        FROM unnest(k_source, k_table, k_key, key_target, key_found) WITH ORDINALITY AS k(s, t, e, kt, f, n)
        LEFT JOIN LATERAL (SELECT x.target_id FROM integration.identifier x
                            WHERE NOT k.f AND x.source_system_key = k.s AND x.target_table = k.t AND x.external_key = k.e
                            LIMIT 1) x ON true;
    END IF;
  END IF;

  -- 3. Items: their record, and a Link's value is its related record's id.
  SELECT coalesce(array_agg(k.t ORDER BY i.n), '{}'),
         coalesce(array_agg(k.id ORDER BY i.n), '{}'),
         coalesce(array_agg(k.f ORDER BY i.n), '{}'),
         coalesce(array_agg(k.c ORDER BY i.n), '{}'),
         coalesce(array_agg(k.s ORDER BY i.n), '{}'),
         coalesce(array_agg(CASE WHEN i.rel > 0 THEN CASE WHEN rk.f THEN rk.id::text ELSE '' END
                                 WHEN cn.n IS NOT NULL AND cn.err IS NULL THEN cn.v ELSE i.v END ORDER BY i.n), '{}'),
         coalesce(array_agg(CASE WHEN i.rel > 0 THEN NOT coalesce(rk.f, false) ELSE i.vn END ORDER BY i.n), '{}'),
         coalesce(array_agg(coalesce(cn.err, '') ORDER BY i.n), '{}')
    INTO it_t, it_id, it_found, it_new, it_s, it_v, it_vn, item_error
    FROM unnest(i_key, i_related, i_value, i_value_null) WITH ORDINALITY AS i(key, rel, v, vn, n)
    JOIN unnest(k_table, key_target, key_found, key_created, k_source) WITH ORDINALITY AS k(t, id, f, c, s, n) ON k.n = i.key
    LEFT JOIN unnest(key_target, key_found) WITH ORDINALITY AS rk(id, f, n) ON rk.n = i.rel
    LEFT JOIN unnest(can_n, can_v, can_err) AS cn(n, v, err) ON cn.n = i.n;

  -- 4. Lock the target rows, table by table in (table, id) order, and read
  --    the items' columns as canonical text.
  FOR tbl IN SELECT DISTINCT u.t FROM unnest(it_t, it_found) AS u(t, f) WHERE u.f ORDER BY 1 LOOP
    tgt := integration.resolve_target(tbl);
    cols := ARRAY(SELECT DISTINCT u.c FROM unnest(it_t, it_found, i_column) AS u(t, f, c) WHERE u.t = tbl AND u.f ORDER BY 1);
    ids := ARRAY(SELECT DISTINCT u.id FROM unnest(it_t, it_id, it_found) AS u(t, id, f) WHERE u.t = tbl AND u.f ORDER BY 1);
    SELECT array_agg(u.id ORDER BY u.n), array_agg(array_position(cols, u.c) ORDER BY u.n), array_agg(u.n ORDER BY u.n)
      INTO x_id, x_col, x_n
      FROM unnest(it_t, it_id, it_found, i_column) WITH ORDINALITY AS u(t, id, f, c, n)
     WHERE u.t = tbl AND u.f;
    EXECUTE format(
      'WITH locked AS MATERIALIZED ('
      '  SELECT t.%1$I AS id, ARRAY[%4$s]::text[] AS v FROM %2$I.%3$I t'
      '   WHERE t.%1$I = ANY ($1) ORDER BY t.%1$I FOR NO KEY UPDATE)'
      'SELECT coalesce(array_agg(x.n), ''{}''), coalesce(array_agg(coalesce(l.v[x.c], '''')), ''{}''),'
      '       coalesce(array_agg(l.v[x.c] IS NULL), ''{}'')'
      '  FROM unnest($2::uuid[], $3::integer[], $4::bigint[]) AS x(id, c, n) JOIN locked l ON l.id = x.id',
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
      FROM unnest(it_t, i_column, it_found, it_v, it_vn, item_error) WITH ORDINALITY AS u(t, c, f, v, vn, err, n)
      LEFT JOIN unnest(cur_n, cur_v, cur_vn) AS cu(n, v, vn) ON cu.n = u.n
     WHERE u.f AND NOT u.vn AND u.err = ''
     GROUP BY u.t, u.c ORDER BY u.t, u.c
  LOOP
    tgt := integration.resolve_target(grp.t);
    SELECT same_n || coalesce(array_agg(grp.ns[cv.ord] ORDER BY cv.ord), '{}'),
           same_v || coalesce(array_agg(coalesce(cv.same, false) ORDER BY cv.ord), '{}')
      INTO same_n, same_v
      FROM integration.canonical_values(format('%I.%I', tgt.rel_schema, tgt.rel_name)::regclass, grp.c::name,
                                        grp.vs, grp.cs) cv;
  END LOOP;

  -- 6. Per item: canonical value, current value, owner (stale under the
  --    aspect's policy?), and the source's order marks. A record created by
  --    this chunk has none of these: its items look nothing up.
  SELECT coalesce(array_agg(x.c0), '{}'),
         coalesce(array_agg(x.c1), '{}'),
         coalesce(array_agg(x.c2), '{}'),
         coalesce(array_agg(x.c3), '{}'),
         coalesce(array_agg(x.c4), '{}'),
         coalesce(array_agg(x.c5), '{}'),
         coalesce(array_agg(x.c6), '{}'),
         coalesce(array_agg(x.c7), '{}'),
         coalesce(array_agg(x.c8), '{}'),
         coalesce(array_agg(x.c9), '{}'),
         coalesce(array_agg(x.c10), '{}'),
         coalesce(array_agg(x.c11), '{}'),
         coalesce(array_agg(x.c12), '{}'),
         coalesce(array_agg(x.c13), '{}'),
         coalesce(array_agg(x.c14), '{}'),
         coalesce(array_agg(x.c15), '{}')
    INTO item_value, item_value_null, item_current, item_current_null, item_same,
         item_owner, item_owner_source, item_owner_stale, item_ts_max, item_ts_null, item_ts_submit, item_ts_seq,
         item_any_submit, item_any_seq, item_nots_submit, item_nots_seq
    FROM (
      SELECT it.v AS c0,
             it.vn AS c1,
             coalesce(cu.v, '') AS c2,
             coalesce(cu.vn, true) AS c3,
             CASE WHEN it.vn THEN coalesce(cu.vn, true) ELSE coalesce(sm.same, false) END AS c4,
             coalesce(o.ledger_id, 0) AS c5,
             coalesce(o.source_system_key, '') AS c6,
             coalesce(integration.is_stale(o.stale_clock, p.stale_after_days, at), false) AS c7,
             coalesce(so.ts_max, 'epoch') AS c8,
             so.ts_max IS NULL AS c9,
             coalesce(so.ts_submit, 0) AS c10,
             coalesce(so.ts_seq, 0) AS c11,
             coalesce(so.any_submit, 0) AS c12,
             coalesce(so.any_seq, 0) AS c13,
             coalesce(so.nots_submit, 0) AS c14,
             coalesce(so.nots_seq, 0) AS c15
      FROM unnest(it_t, it_id, it_found, it_new, it_s, it_v, it_vn, i_aspect, i_aspect_key)
           WITH ORDINALITY AS it(t, id, f, c, s, v, vn, aspect, akey, n)
      LEFT JOIN unnest(cur_n, cur_v, cur_vn) AS cu(n, v, vn) ON cu.n = it.n
      LEFT JOIN unnest(same_n, same_v) AS sm(n, same) ON sm.n = it.n
      LEFT JOIN LATERAL (SELECT e.ledger_id, e.source_system_key, integration.stale_clock(e) AS stale_clock
                           FROM integration.owner_entry(it.t, it.id, it.akey) e WHERE it.f AND NOT it.c) o ON true
      LEFT JOIN LATERAL integration.aspect_policy(it.t, it.aspect, it.akey) p ON true
      LEFT JOIN LATERAL (SELECT so.* FROM integration.source_order so
                          WHERE it.f AND NOT it.c AND so.target_table = it.t AND so.target_id = it.id AND so.aspect_key = it.akey
                            AND so.source_system_key = it.s LIMIT 1) so ON true
       ORDER BY it.n) x;

  -- 7. The item's source's held (pending, unapplied) entries for the aspect.
  SELECT coalesce(array_agg(it.n::integer ORDER BY it.n, l.ledger_id), '{}'),
         coalesce(array_agg(l.ledger_id ORDER BY it.n, l.ledger_id), '{}'),
         coalesce(array_agg(coalesce(l.value, '') ORDER BY it.n, l.ledger_id), '{}'),
         coalesce(array_agg(l.value IS NULL ORDER BY it.n, l.ledger_id), '{}')
    INTO held_item, held_ledger, held_value, held_value_null
    FROM unnest(it_t, it_id, it_found, it_new, it_s, i_aspect_key) WITH ORDINALITY AS it(t, id, f, c, s, akey, n)
    CROSS JOIN LATERAL (SELECT l.ledger_id, l.value FROM integration.ledger l
                         WHERE it.f AND NOT it.c AND l.target_table = it.t AND l.target_id = it.id AND l.aspect_key = it.akey
                           AND l.source_system_key = it.s AND l.ledger_status = 'Pending' AND NOT l.is_applied
                        OFFSET 0) l;

  RETURN NEXT;
END
$$;
SELECT integration.use_canonical_settings('integration.prepare_chunk(uuid,bigint[],bigint,text[],text[],text[],uuid[],boolean[],integer[],boolean[],integer[],text[],text[],text[],text[],boolean[])');

-- apply_chunk(...): the set-based write of a chunk, in the transaction that
-- prepare_chunk began (its locks are held). In order: checks that every
-- entry the worker certifies is one its policy auto-certifies at ingest
-- (SL062); writes the target columns (one UPDATE per table, all columns of a
-- record in one row update); inserts the ledger entries (each applied one
-- taking the next apply_seq, now, under the row locks) and the policy's
-- certification events, sealed into their records' chains; refreshes
-- confirmed_at (the staleness clock) of the entries the worker confirms;
-- stores the source order marks; records every item's result (only Pending
-- items of the fenced jobs); and fans applied values out to subscribers.
-- Returns the number of items whose result was recorded.
--
-- Writes (w_*): one per record and column, already coalesced. Entries (d_*),
-- in order; d_item 0 for a record creation. Results (r_*): r_entry is the
-- 1-based index of the item's entry in d_*, 0 for none.
CREATE OR REPLACE FUNCTION integration.apply_chunk(
  p_jobs        bigint[],
  w_table       text[],
  w_id          uuid[],
  w_column      text[],
  w_value       text[],
  w_null        boolean[],
  d_item        bigint[],
  d_job         bigint[],
  d_table       text[],
  d_id          uuid[],
  d_aspect      text[],
  d_key         text[],
  d_source      text[],
  d_status      text[],
  d_value       text[],
  d_value_null  boolean[],
  d_prev        text[],
  d_prev_null   boolean[],
  d_applied     boolean[],
  d_ts          timestamptz[],
  d_ts_null     boolean[],
  c_ledger      bigint[],
  m_table       text[],
  m_id          uuid[],
  m_key         text[],
  m_source      text[],
  m_ts_max      timestamptz[],
  m_ts_null     boolean[],
  m_ts_submit   bigint[],
  m_ts_seq      bigint[],
  m_any_submit  bigint[],
  m_any_seq     bigint[],
  m_nots_submit bigint[],
  m_nots_seq    bigint[],
  r_item        bigint[],
  r_status      text[],
  r_message     text[],
  r_target      uuid[],
  r_target_null boolean[],
  r_entry       integer[])
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
-- Planner settings: see "Plans" at the top of this file.
SET enable_seqscan = off SET enable_nestloop = off SET jit = off
AS $$
DECLARE
  nd        integer := coalesce(cardinality(d_item), 0);
  at        timestamptz := now();
  tbl       text;
  tgt       record;
  cols      text[];
  sets      text;
  aggs      text;
  bad       text;
  lids      bigint[];
  updated   integer;
  ledger_seq regclass := pg_get_serial_sequence('integration.ledger', 'ledger_id')::regclass;
  event_seq  regclass := pg_get_serial_sequence('integration.ledger_event', 'event_id')::regclass;
BEGIN
  -- Certified at ingest only where the policy says so (never in a steward's name).
  SELECT string_agg(DISTINCT format('%s.%s', d.t, d.k), ', ') INTO bad
    FROM unnest(d_table, d_aspect, d_key, d_status) AS d(t, a, k, s)
    LEFT JOIN LATERAL integration.aspect_policy(d.t, d.a, d.k) p ON true
   WHERE d.s <> 'Pending' AND NOT (d.s = 'Certified' AND coalesce(p.auto_certify, false));
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'the worker records entries as Pending, or Certified where the policy auto-certifies; not %', bad
      USING ERRCODE = 'SL062';
  END IF;

  -- 1. Target columns: per table, every written column of a record in one row update.
  FOR tbl IN SELECT DISTINCT t FROM unnest(w_table) t ORDER BY 1 LOOP
    tgt := integration.resolve_target(tbl);
    cols := ARRAY(SELECT DISTINCT u.c FROM unnest(w_table, w_column) AS u(t, c) WHERE u.t = tbl ORDER BY 1);
    SELECT string_agg(format('%1$I = CASE WHEN v.p%2$s THEN (v.v%2$s)::%3$s ELSE t.%1$I END', u.col, u.o,
                             format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY u.o),
           string_agg(format('bool_or(w.c = %1$L) AS p%2$s, (array_agg(w.v) FILTER (WHERE w.c = %1$L))[1] AS v%2$s',
                             u.col, u.o), ', ' ORDER BY u.o)
      INTO sets, aggs
      FROM unnest(cols) WITH ORDINALITY AS u(col, o)
      JOIN pg_attribute a ON a.attrelid = format('%I.%I', tgt.rel_schema, tgt.rel_name)::regclass
                         AND a.attname = u.col AND a.attnum > 0 AND NOT a.attisdropped;
    EXECUTE format('UPDATE %1$I.%2$I t SET %3$s'
                   '  FROM (SELECT w.id, %4$s'
                   '          FROM (SELECT u.id, u.c, CASE WHEN u.n THEN NULL ELSE u.v END AS v'
                   '                  FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::boolean[]) AS u(t, id, c, v, n)'
                   '                 WHERE u.t = $6) w'
                   '         GROUP BY w.id) v'
                   ' WHERE t.%5$I = v.id AND t.%5$I = ANY ($7)',
                   tgt.rel_schema, tgt.rel_name, sets, aggs, tgt.id_col)
      USING w_table, w_id, w_column, w_value, w_null, tbl,
            ARRAY(SELECT DISTINCT u.id FROM unnest(w_table, w_id) AS u(t, id) WHERE u.t = tbl);
  END LOOP;

  -- 2. Ledger entries and policy events: ids, apply order, digests, chain.
  IF nd > 0 THEN
    WITH d AS MATERIALIZED (
      SELECT u.n, nextval(ledger_seq) AS ledger_id,
             u.t, u.id, u.aspect, u.akey, u.source, u.status,
             CASE WHEN u.vn THEN NULL ELSE u.v END AS value,
             CASE WHEN u.pn THEN NULL ELSE u.p END AS prev,
             u.applied, CASE WHEN u.applied THEN nextval('integration.apply_seq') END AS aseq,
             nullif(u.item, 0) AS item, u.job, CASE WHEN u.tsn THEN NULL ELSE u.ts END AS ts,
             CASE WHEN u.status = 'Certified' THEN nextval(event_seq) END AS event_id
        FROM unnest(d_item, d_job, d_table, d_id, d_aspect, d_key, d_source, d_status, d_value, d_value_null, d_prev,
                    d_prev_null, d_applied, d_ts, d_ts_null)
             WITH ORDINALITY AS u(item, job, t, id, aspect, akey, source, status, v, vn, p, pn, applied, ts, tsn, n)
    ), el AS MATERIALIZED (
      -- Each entry, then its policy event, in order.
      SELECT row_number() OVER (ORDER BY e.ord)::integer AS k, e.*
        FROM (SELECT d.n * 2 - 1 AS ord, d.t, d.id,
                     integration.entry_digest(d.ledger_id, d.t, d.id, d.aspect, d.akey, d.source, d.value, d.prev,
                                              d.item, d.job, d.ts, at) AS h
                FROM d
              UNION ALL
              SELECT d.n * 2, d.t, d.id,
                     integration.event_digest(d.event_id, d.ledger_id, 'Pending', 'Certified', 'policy', session_user, at,
                                              'certified at ingest by commit policy', NULL)
                FROM d WHERE d.event_id IS NOT NULL) e
    ), chained AS MATERIALIZED (
      SELECT el.ord, el.h, c.chain_seq, c.chain_hash
        FROM integration.chain_append(ARRAY(SELECT el.t FROM el ORDER BY el.k),
                                      ARRAY(SELECT el.id FROM el ORDER BY el.k),
                                      ARRAY(SELECT el.h FROM el ORDER BY el.k)) c
        JOIN el ON el.k = c.ord
    ), entries AS (
      INSERT INTO integration.ledger
        (ledger_id, target_table, target_id, ledger_aspect, aspect_key, source_system_key, ledger_status, value,
         previous_value, is_applied, applied_at, apply_seq, sync_item_id, job_id, source_timestamp, recorded_at,
         confirmed_at, certified_at, chain_seq, row_hash, chain_hash)
      OVERRIDING SYSTEM VALUE
      SELECT d.ledger_id, d.t, d.id, d.aspect, d.akey, d.source, d.status, d.value, d.prev, d.applied,
             CASE WHEN d.applied THEN at END, d.aseq, d.item, d.job, d.ts, at,
             CASE WHEN d.applied THEN at END, CASE WHEN d.status = 'Certified' THEN at END,
             c.chain_seq, c.h, c.chain_hash
        FROM d JOIN chained c ON c.ord = d.n * 2 - 1
       ORDER BY d.n
      RETURNING ledger_id
    ), events AS (
      INSERT INTO integration.ledger_event
        (event_id, ledger_id, from_status, to_status, actor, acting_role, occurred_at, notes, chain_seq, row_hash, chain_hash)
      OVERRIDING SYSTEM VALUE
      SELECT d.event_id, d.ledger_id, 'Pending', 'Certified', 'policy', session_user, at,
             'certified at ingest by commit policy', c.chain_seq, c.h, c.chain_hash
        FROM d JOIN chained c ON c.ord = d.n * 2
       WHERE d.event_id IS NOT NULL
       ORDER BY d.n
    )
    SELECT array_agg(d.ledger_id ORDER BY d.n) INTO lids
      FROM d
     WHERE (SELECT count(*) FROM entries) >= 0;
  END IF;

  -- 3. The staleness clock of confirmed entries (unchanged values re-sent by
  --    their owner, held duplicates folded), never moved backwards.
  IF cardinality(c_ledger) > 0 THEN
    UPDATE integration.ledger l SET confirmed_at = at
     WHERE l.ledger_id = ANY (c_ledger) AND l.ledger_status IN ('Pending', 'Certified')
       AND (l.confirmed_at IS NULL OR l.confirmed_at < at);
  END IF;

  -- 4. Source order marks.
  IF cardinality(m_table) > 0 THEN
    INSERT INTO integration.source_order AS o
      (target_table, target_id, aspect_key, source_system_key, ts_max, ts_submit, ts_seq, any_submit, any_seq,
       nots_submit, nots_seq)
    SELECT u.t, u.id, u.k, u.s, CASE WHEN u.tn THEN NULL ELSE u.ts END, nullif(u.tsub, 0), nullif(u.tseq, 0),
           u.asub, u.aseq, nullif(u.nsub, 0), nullif(u.nseq, 0)
      FROM unnest(m_table, m_id, m_key, m_source, m_ts_max, m_ts_null, m_ts_submit, m_ts_seq, m_any_submit, m_any_seq,
                  m_nots_submit, m_nots_seq) AS u(t, id, k, s, ts, tn, tsub, tseq, asub, aseq, nsub, nseq)
     ORDER BY 1, 2, 3, 4
    ON CONFLICT (target_table, target_id, aspect_key, source_system_key) DO UPDATE
       SET ts_max = excluded.ts_max, ts_submit = excluded.ts_submit, ts_seq = excluded.ts_seq,
           any_submit = excluded.any_submit, any_seq = excluded.any_seq,
           nots_submit = excluded.nots_submit, nots_seq = excluded.nots_seq;
  END IF;

  -- 5. Item results, only for Pending items of the fenced jobs.
  UPDATE integration.sync_item i
     SET item_status     = r.status,
         process_message = nullif(r.msg, ''),
         target_id       = CASE WHEN r.tn THEN i.target_id ELSE r.tid END,
         applied_at      = CASE WHEN r.status = 'Applied' THEN at END,
         ledger_id       = CASE WHEN r.e > 0 THEN lids[r.e] END
    FROM unnest(r_item, r_status, r_message, r_target, r_target_null, r_entry) AS r(id, status, msg, tid, tn, e)
   WHERE i.item_id = r.id AND i.item_id = ANY (r_item) AND i.item_status = 'Pending' AND i.job_id = ANY (p_jobs);
  GET DIAGNOSTICS updated = ROW_COUNT;

  -- 6. Outbound: applied field and relationship values go to their
  --    subscribers (if the table has any).
  IF nd > 0 AND EXISTS (SELECT FROM unnest(d_applied, d_aspect, d_table) AS u(a, k, t)
                         WHERE u.a AND u.k <> 'Record'
                           AND EXISTS (SELECT FROM integration.subscription s WHERE s.target_table = u.t)) THEN
    PERFORM integration.enqueue_outbound(ARRAY(SELECT u.id FROM unnest(lids, d_applied, d_aspect) AS u(id, a, k)
                                                WHERE u.a AND u.k <> 'Record'));
  END IF;

  RETURN updated;
END
$$;
SELECT integration.use_canonical_settings('integration.apply_chunk(bigint[],text[],uuid[],text[],text[],boolean[],bigint[],bigint[],text[],uuid[],text[],text[],text[],text[],text[],boolean[],text[],boolean[],boolean[],timestamp with time zone[],boolean[],bigint[],text[],uuid[],text[],text[],timestamp with time zone[],boolean[],bigint[],bigint[],bigint[],bigint[],bigint[],bigint[],bigint[],text[],text[],uuid[],boolean[],integer[])');

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
AS $$
DECLARE
  pair record;
  t    record;
BEGIN
  -- Fields and relationships: every column a policy governs or an entry names.
  FOR pair IN
    SELECT l.target_table AS tbl, l.aspect_key AS col
      FROM integration.ledger l
     WHERE l.ledger_aspect IN ('Field', 'Relationship')
    UNION
    SELECT p.target_table, p.field_name
      FROM integration.commit_policy p
     WHERE p.field_name IS NOT NULL
     ORDER BY 1, 2
  LOOP
    BEGIN
      t := integration.resolve_target(pair.tbl, pair.col);
    EXCEPTION WHEN undefined_column OR sqlstate 'SL050' THEN
      CONTINUE; -- a column or table dropped since: nothing left to compare
    END;
    RETURN QUERY EXECUTE format(
      $q$WITH owner AS (SELECT o.target_id, o.value, o.ledger_id FROM integration.aspect_owner o
                       WHERE o.target_table = $1 AND o.aspect_key = $2),
            first AS (SELECT DISTINCT ON (l.target_id) l.target_id, l.previous_value, l.ledger_id
                        FROM integration.ledger l WHERE l.target_table = $1 AND l.aspect_key = $2
                       ORDER BY l.target_id, l.ledger_id),
            created AS (SELECT DISTINCT l.target_id FROM integration.ledger l
                         WHERE l.target_table = $1 AND l.ledger_aspect = 'Record' AND l.value = 'created')
      SELECT $1, t.%4$I, $2, t.%1$I::text, o.value, o.ledger_id, 'mismatch'
        FROM owner o JOIN %2$I.%3$I t ON t.%4$I = o.target_id
       WHERE t.%1$I IS DISTINCT FROM (o.value)::%5$s
      UNION ALL
      SELECT $1, t.%4$I, $2, t.%1$I::text, NULL, NULL, 'orphan'
        FROM created c JOIN %2$I.%3$I t ON t.%4$I = c.target_id
       WHERE t.%1$I IS NOT NULL AND NOT EXISTS (SELECT FROM owner o WHERE o.target_id = c.target_id)
      UNION ALL
      SELECT $1, t.%4$I, $2, t.%1$I::text, f.previous_value, f.ledger_id, 'orphan'
        FROM first f JOIN %2$I.%3$I t ON t.%4$I = f.target_id
       WHERE NOT EXISTS (SELECT FROM owner o WHERE o.target_id = f.target_id)
         AND NOT EXISTS (SELECT FROM created c WHERE c.target_id = f.target_id)
         AND t.%1$I IS DISTINCT FROM (f.previous_value)::%5$s
       ORDER BY 2$q$,
      pair.col, t.rel_schema, t.rel_name, t.id_col, t.col_type)
    USING pair.tbl, pair.col;
  END LOOP;

  -- Records: the active column against the owner of the Record aspect.
  FOR pair IN
    SELECT DISTINCT l.target_table AS tbl
      FROM integration.ledger l
     WHERE l.ledger_aspect = 'Record'
     ORDER BY 1
  LOOP
    BEGIN
      t := integration.resolve_target(pair.tbl);
    EXCEPTION WHEN sqlstate 'SL050' THEN
      CONTINUE;
    END;
    CONTINUE WHEN t.active_col IS NULL;
    RETURN QUERY EXECUTE format(
      $q$SELECT $1, t.%4$I, 'record', CASE WHEN t.%1$I IS FALSE THEN 'deleted' ELSE 'created' END, o.value, o.ledger_id, 'mismatch'
           FROM integration.aspect_owner o JOIN %2$I.%3$I t ON t.%4$I = o.target_id
          WHERE o.target_table = $1 AND o.aspect_key = 'record'
            AND (CASE WHEN t.%1$I IS FALSE THEN 'deleted' ELSE 'created' END) IS DISTINCT FROM o.value
          ORDER BY 2$q$,
      t.active_col, t.rel_schema, t.rel_name, t.id_col)
    USING pair.tbl;
  END LOOP;
END
$$;
SELECT integration.use_canonical_settings('integration.provenance_violations()');
