-- proofs.sql — the Merkle log of the ledger's chain links, and its
-- checkpoints (SPEC §6, Proofs against an outside copy).
--
-- Every chain link (ledger_guard.sql) is a row of integration.ledger_link.
-- A checkpoint appends the links not yet in the log to an append-only Merkle
-- tree in the manner of RFC 9162 (§2.1: leaf hash SHA-256(0x00 || leaf),
-- node hash SHA-256(0x01 || left || right)), stores the hashes of the
-- complete subtrees, and records the tree's size and root. Kept outside the
-- database, a checkpoint lets anyone check, with a consistency proof, that
-- the ledger of a later day extends it (nothing deleted, rewound, reordered
-- or rewritten), and, with an inclusion proof, that an entry is in it.
-- docs/proofs.md specifies the leaf, the tree and the proofs precisely.
--
-- Order without waiting
--   Links are appended in the order their transactions began (txid), then
--   link_id. That is not commit order: a transaction that began earlier may
--   commit later. A checkpoint therefore takes only the links of
--   transactions older than every transaction still running (the xmin of a
--   snapshot, its horizon), all of which have ended; the next checkpoint
--   starts at that horizon. So a link that commits after a checkpoint is
--   appended by a later one, never skipped, and no writer ever waits for a
--   checkpoint, nor a checkpoint for a writer (the horizon is read, not locked).
--
--   SL080  a proof was asked for a tree size the log does not have, or an
--          entry that is not in it yet

-- merkle_leaf_hash(link): the leaf hash of a chain link.
CREATE OR REPLACE FUNCTION integration.merkle_leaf_hash(p_link bytea)
RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256('\x00'::bytea || convert_to('syncledger link v1', 'UTF8') || '\x00'::bytea || p_link)
$$;

-- merkle_node_hash(left, right).
CREATE OR REPLACE FUNCTION integration.merkle_node_hash(p_left bytea, p_right bytea)
RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256('\x01'::bytea || p_left || p_right)
$$;

-- merkle_size(): how many leaves the log has.
CREATE OR REPLACE FUNCTION integration.merkle_size()
RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT l.leaf_index + 1 FROM integration.merkle_leaf l ORDER BY l.leaf_index DESC LIMIT 1), 0)
$$;

-- merkle_subtrees(subtrees): the stored hashes of complete subtrees, asked
-- for as a JSON array of {"level", "index"} (level 0: leaves); what a proof
-- is built from (the plan is the caller's: MerkleProofPlan in the core).
CREATE OR REPLACE FUNCTION integration.merkle_subtrees(p_subtrees jsonb)
RETURNS TABLE (level integer, node_index bigint, hash bytea)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  SELECT s.level, s.index, coalesce(n.hash, l.leaf_hash)
    FROM jsonb_to_recordset(p_subtrees) AS s(level integer, index bigint)
    LEFT JOIN integration.merkle_node n ON s.level > 0 AND n.level = s.level AND n.node_index = s.index
    LEFT JOIN integration.merkle_leaf l ON s.level = 0 AND l.leaf_index = s.index
$$;

-- merkle_root(size): the root of the first `size` leaves, from the stored
-- complete subtrees: split at the largest power of two below the size, as
-- RFC 9162 §2.1.1 does, which makes the left part a complete subtree.
CREATE OR REPLACE FUNCTION integration.merkle_root(p_size bigint)
RETURNS bytea
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  parts  bytea[] := '{}';
  offs   bigint := 0;
  rest   bigint := p_size;
  lvl    integer;
  h      bytea;
  root   bytea;
BEGIN
  IF p_size IS NULL OR p_size < 0 OR p_size > integration.merkle_size() THEN
    RAISE EXCEPTION 'the log has % leaves; no root of % of them', integration.merkle_size(), coalesce(p_size::text, 'NULL')
      USING ERRCODE = 'SL080';
  ELSIF p_size = 0 THEN
    RETURN sha256(''::bytea);
  END IF;
  WHILE rest > 0 LOOP
    lvl := 0;
    WHILE (1::bigint << (lvl + 1)) <= rest LOOP
      lvl := lvl + 1;
    END LOOP;
    IF lvl = 0 THEN
      SELECT l.leaf_hash INTO h FROM integration.merkle_leaf l WHERE l.leaf_index = offs;
    ELSE
      SELECT n.hash INTO h FROM integration.merkle_node n WHERE n.level = lvl AND n.node_index = offs >> lvl;
    END IF;
    IF h IS NULL THEN
      RAISE EXCEPTION 'the log lacks the subtree at level % index % (it was deleted)', lvl, offs >> lvl USING ERRCODE = 'SL080';
    END IF;
    parts := parts || h;
    offs := offs + (1::bigint << lvl);
    rest := p_size - offs;
  END LOOP;
  root := parts[cardinality(parts)];
  FOR i IN REVERSE cardinality(parts) - 1 .. 1 LOOP
    root := integration.merkle_node_hash(parts[i], root);
  END LOOP;
  RETURN root;
END
$$;

-- checkpoint(max_links): appends to the log every link of the transactions
-- that ended before the horizon and are not in it yet (see the top of this
-- file), computes the new complete subtrees, and records the checkpoint.
-- Returns its tree size, root (hex), time, and how many links it appended.
-- One at a time (an advisory lock); writers never wait for it.
--
-- At most about max_links links per call, whole transactions at a time (the
-- horizon recorded is then the first transaction left out): a backlog of
-- millions of links is taken in calls that each end well within a
-- statement timeout. `complete` says whether the log caught up with the
-- horizon; callers repeat until it did.
CREATE OR REPLACE FUNCTION integration.checkpoint(p_max_links bigint DEFAULT 200000)
RETURNS TABLE (tree_size bigint, root text, taken_at timestamptz, links_added bigint, complete boolean)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET jit = off
AS $$
DECLARE
  start   xid8;
  horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
  before  bigint;
  after   bigint;
  lvl     integer := 1;
  r       bytea;
  cap     xid8;
  first   xid8;
  done    boolean := true;
BEGIN
  PERFORM pg_advisory_xact_lock(5386436863276462949);  -- 'JLedgerM': one checkpoint at a time
  SELECT coalesce((SELECT c.horizon FROM integration.merkle_checkpoint c ORDER BY c.tree_size DESC, c.taken_at DESC LIMIT 1),
                  '0'::xid8)
    INTO start;
  before := integration.merkle_size();
  -- The first transaction beyond max_links, if any, becomes the horizon
  -- (never the first transaction itself: that one is taken whole).
  SELECT k.txid INTO cap
    FROM integration.ledger_link k
   WHERE k.txid >= start AND k.txid < horizon
   ORDER BY k.txid, k.link_id
  OFFSET greatest(p_max_links, 1) LIMIT 1;
  IF cap IS NOT NULL THEN
    SELECT min(k.txid) INTO first FROM integration.ledger_link k WHERE k.txid >= start AND k.txid < horizon;
    IF cap = first THEN
      SELECT min(k.txid) INTO cap FROM integration.ledger_link k WHERE k.txid > first AND k.txid < horizon;
    END IF;
    IF cap IS NOT NULL THEN
      horizon := cap;
      done := false;
    END IF;
  END IF;

  INSERT INTO integration.merkle_leaf (leaf_index, txid, link_id, leaf_hash)
  SELECT before + row_number() OVER (ORDER BY k.txid, k.link_id) - 1, k.txid, k.link_id, integration.merkle_leaf_hash(k.link_hash)
    FROM integration.ledger_link k
   WHERE k.txid >= start AND k.txid < horizon
   ORDER BY k.txid, k.link_id;
  after := integration.merkle_size();

  -- The complete subtrees the new leaves finish, level by level: each level
  -- is one ordered range scan of the level below (its new children, which
  -- are contiguous), pairing each even child with the next (lead). No join:
  -- with the statistics of a freshly filled log a join's plan can go
  -- quadratic (it did: 20 s for 20,000 leaves).
  WHILE (after >> lvl) > (before >> lvl) LOOP
    IF lvl = 1 THEN
      INSERT INTO integration.merkle_node (level, node_index, hash)
      SELECT 1, x.i >> 1, integration.merkle_node_hash(x.hash, x.next)
        FROM (SELECT a.leaf_index AS i, a.leaf_hash AS hash, lead(a.leaf_hash) OVER (ORDER BY a.leaf_index) AS next
                FROM integration.merkle_leaf a
               WHERE a.leaf_index >= 2 * (before >> 1) AND a.leaf_index < 2 * (after >> 1)) x
       WHERE x.i % 2 = 0;
    ELSE
      INSERT INTO integration.merkle_node (level, node_index, hash)
      SELECT lvl, x.i >> 1, integration.merkle_node_hash(x.hash, x.next)
        FROM (SELECT a.node_index AS i, a.hash, lead(a.hash) OVER (ORDER BY a.node_index) AS next
                FROM integration.merkle_node a
               WHERE a.level = lvl - 1 AND a.node_index >= 2 * (before >> lvl) AND a.node_index < 2 * (after >> lvl)) x
       WHERE x.i % 2 = 0;
    END IF;
    lvl := lvl + 1;
  END LOOP;

  r := integration.merkle_root(after);
  INSERT INTO integration.merkle_checkpoint (tree_size, root, horizon)
  VALUES (after, r, horizon)
  ON CONFLICT ON CONSTRAINT merkle_checkpoint_pkey DO UPDATE SET horizon = excluded.horizon, taken_at = now();
  RETURN QUERY SELECT after, encode(r, 'hex'), now(), after - before, done;
END
$$;

-- verify_log(): the log against the ledger, recomputed from the links: every
-- leaf is the hash of an existing link, every link of a transaction before
-- the newest checkpoint's horizon is in the log, every stored subtree hash
-- recomputes, and every checkpoint's root is the root of its size. One row
-- per finding; empty on a healthy database. verify_ledger checks the links
-- against the chains.
CREATE OR REPLACE FUNCTION integration.verify_log()
RETURNS TABLE (finding text, detail text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET work_mem = '512MB' SET jit = off
AS $$
DECLARE
  size    bigint := integration.merkle_size();
  horizon xid8 := coalesce((SELECT c.horizon FROM integration.merkle_checkpoint c ORDER BY c.tree_size DESC LIMIT 1), '0'::xid8);
  lvl     integer := 1;
  bad     bigint;
  c       record;
BEGIN
  RETURN QUERY
  SELECT 'log', format('leaf %s is not the hash of a link in integration.ledger_link (a link was changed or deleted)', l.leaf_index)
    FROM integration.merkle_leaf l
    LEFT JOIN integration.ledger_link k ON k.txid = l.txid AND k.link_id = l.link_id
   WHERE k.link_hash IS NULL OR integration.merkle_leaf_hash(k.link_hash) IS DISTINCT FROM l.leaf_hash
  UNION ALL
  SELECT 'log', format('leaf positions %s..%s: %s leaves where %s were expected (leaves were deleted or added)',
                       0, size - 1, (SELECT count(*) FROM integration.merkle_leaf), size)
   WHERE (SELECT count(*) FROM integration.merkle_leaf) <> size
  UNION ALL
  SELECT 'log', format('the link of %s %s up to chain position %s (transaction %s) is not in the log, though a checkpoint passed it',
                       k.target_table, k.target_id, k.chain_seq, k.txid)
    FROM integration.ledger_link k
   WHERE k.txid < horizon
     AND NOT EXISTS (SELECT FROM integration.merkle_leaf l WHERE l.txid = k.txid AND l.link_id = k.link_id);

  WHILE (size >> lvl) > 0 LOOP
    SELECT count(*) INTO bad
      FROM generate_series(0, (size >> lvl) - 1) AS i
      LEFT JOIN integration.merkle_node n ON n.level = lvl AND n.node_index = i
      LEFT JOIN LATERAL (
            SELECT CASE WHEN lvl = 1
                        THEN (SELECT integration.merkle_node_hash(a.leaf_hash, b.leaf_hash)
                                FROM integration.merkle_leaf a, integration.merkle_leaf b
                               WHERE a.leaf_index = 2 * i AND b.leaf_index = 2 * i + 1)
                        ELSE (SELECT integration.merkle_node_hash(a.hash, b.hash)
                                FROM integration.merkle_node a, integration.merkle_node b
                               WHERE a.level = lvl - 1 AND a.node_index = 2 * i AND b.level = lvl - 1 AND b.node_index = 2 * i + 1)
                   END AS h) x ON true
     WHERE n.hash IS DISTINCT FROM x.h;
    IF bad > 0 THEN
      RETURN QUERY SELECT 'log', format('%s stored subtree hash(es) at level %s do not recompute from the level below', bad, lvl);
    END IF;
    lvl := lvl + 1;
  END LOOP;

  FOR c IN SELECT * FROM integration.merkle_checkpoint ORDER BY tree_size LOOP
    IF c.tree_size > size THEN
      RETURN QUERY SELECT 'log', format('checkpoint of %s leaves (%s): the log has only %s', c.tree_size, c.taken_at, size);
    ELSIF integration.merkle_root(c.tree_size) IS DISTINCT FROM c.root THEN
      RETURN QUERY SELECT 'log', format('checkpoint of %s leaves (%s): its root is not the root of the log''s first %s leaves',
                                        c.tree_size, c.taken_at, c.tree_size);
    END IF;
  END LOOP;
END
$$;

-- entry_proof(ledger_id, tree_size): what an inclusion proof of an entry is
-- made of, as one JSON object: the entry's hashed content (its version 2
-- digest's fields, or version 1's), its row_hash, the link that sealed it
-- (the previous link, or the chain's genesis, and the row_hash of every
-- element of the link, in order, with the entry's position among them), and
-- the link's leaf index. The Merkle path is the caller's to fetch
-- (merkle_subtrees), for the checkpoint's tree size. SL080 when the entry's
-- link is not within the first `tree_size` leaves.
CREATE OR REPLACE FUNCTION integration.entry_proof(p_ledger_id bigint, p_tree_size bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
DECLARE
  e     integration.ledger;
  k     integration.ledger_link;
  leaf  bigint;
  first bigint;
  prev  bytea;
  els   jsonb;
BEGIN
  SELECT * INTO e FROM integration.ledger l WHERE l.ledger_id = p_ledger_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'ledger entry % not found', coalesce(p_ledger_id::text, 'NULL') USING ERRCODE = 'SL010';
  END IF;
  SELECT x.* INTO k FROM integration.ledger_link x
   WHERE x.target_table = e.target_table AND x.target_id = e.target_id AND x.link_hash = e.chain_hash
   ORDER BY x.chain_seq LIMIT 1;
  SELECT l.leaf_index INTO leaf FROM integration.merkle_leaf l WHERE l.txid = k.txid AND l.link_id = k.link_id;
  IF leaf IS NULL OR leaf >= p_tree_size THEN
    RAISE EXCEPTION 'ledger entry % is not in the log''s first % leaves: take a checkpoint after it was written', p_ledger_id,
                    p_tree_size
      USING ERRCODE = 'SL080', HINT = 'syncledger checkpoint, then prove against the new checkpoint';
  END IF;
  -- The link's elements: the record's elements sealed by this link, in chain order.
  WITH el AS (
    SELECT l.chain_seq, l.row_hash, l.ledger_id AS lid, NULL::bigint AS eid FROM integration.ledger l
     WHERE l.target_table = e.target_table AND l.target_id = e.target_id AND l.chain_hash = e.chain_hash
    UNION ALL
    SELECT v.chain_seq, v.row_hash, v.ledger_id, v.event_id FROM integration.ledger_event v
      JOIN integration.ledger l ON l.ledger_id = v.ledger_id
     WHERE l.target_table = e.target_table AND l.target_id = e.target_id AND v.chain_hash = e.chain_hash
  )
  SELECT jsonb_agg(jsonb_build_object('row_hash', encode(el.row_hash, 'hex'), 'ledger_id', el.lid, 'event_id', el.eid)
                   ORDER BY el.chain_seq),
         min(el.chain_seq)
    INTO els, first
    FROM el;
  SELECT coalesce(
           (SELECT x.chain_hash FROM (
              SELECT l.chain_seq, l.chain_hash FROM integration.ledger l
               WHERE l.target_table = e.target_table AND l.target_id = e.target_id AND l.chain_seq = first - 1
              UNION ALL
              SELECT v.chain_seq, v.chain_hash FROM integration.ledger_event v JOIN integration.ledger l ON l.ledger_id = v.ledger_id
               WHERE l.target_table = e.target_table AND l.target_id = e.target_id AND v.chain_seq = first - 1) x LIMIT 1),
           integration.chain_genesis(e.target_table, e.target_id))
    INTO prev;
  RETURN jsonb_build_object(
    'ledger_id', e.ledger_id,
    'hash_version', e.hash_version,
    'row_hash', encode(e.row_hash, 'hex'),
    'entry', jsonb_build_object(
      'ledger_id', e.ledger_id, 'target_table', e.target_table, 'target_id', e.target_id, 'ledger_aspect', e.ledger_aspect,
      'aspect_key', e.aspect_key, 'source_system_key', e.source_system_key, 'value', e.value, 'previous_value', e.previous_value,
      'sync_item_id', e.sync_item_id, 'job_id', e.job_id, 'source_timestamp_us', integration.epoch_us(e.source_timestamp),
      'recorded_at_us', integration.epoch_us(e.recorded_at), 'birth_status', e.birth_status, 'birth_apply_seq', e.birth_apply_seq,
      'notes', e.notes, 'hold_reason', e.hold_reason, 'match_rule', e.match_rule, 'match_score', e.match_score::text),
    'link', jsonb_build_object(
      'target_table', e.target_table, 'target_id', e.target_id, 'previous', encode(prev, 'hex'), 'elements', els,
      'hash', encode(e.chain_hash, 'hex'), 'chain_seq', k.chain_seq),
    'leaf_index', leaf);
END
$$;
