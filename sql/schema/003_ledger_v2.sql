-- 003_ledger_v2.sql — what the ledger proves, and to whom (SPEC §6, Proofs
-- against an outside copy):
--
-- 1. Hash version 2. An entry's row_hash covers, besides its immutable
--    content, its state when it was written (birth_status, and birth_apply_seq:
--    whether it was applied and in which order; its clocks then are its
--    recorded_at) and the reasons it carries (why it was held, the match rule
--    that linked its record). Every later change of its state is an event,
--    and a version 2 event's row_hash covers the entry's whole state after it. So every
--    column that decides ownership, status or staleness is in the chain, and
--    verify_ledger recomputes the state of every entry from hashed content.
-- 2. The links. Every chain link (one per record per writing transaction)
--    is also a row of integration.ledger_link, in the order transactions
--    began (txid), so that a checkpoint can append every committed link to
--    the Merkle log exactly once (sql/code/35_proofs.sql).
-- 3. The Merkle log: leaves, the hashes of complete subtrees, checkpoints.
--
-- A database that already has a ledger: its chains' links are entered into
-- integration.ledger_link, and every entry gets one attestation event (hash
-- version 2) stating its state as it is now, chained onto its record like
-- any event; from then on, its state is proven like a new entry's. The
-- digests below are computed inline, with the formula of
-- sql/code/30_ledger_guard.sql (integration.event_digest_v2) as of this
-- release: a versioned file must not depend on code that later releases may
-- change. verify_ledger checks them with the code's formula.

-- ---------------------------------------------------------------------------
-- Columns
-- ---------------------------------------------------------------------------

ALTER TABLE integration.ledger
  ADD COLUMN hash_version    smallint NOT NULL DEFAULT 1,
  ADD COLUMN birth_status    text,
  ADD COLUMN birth_apply_seq bigint,
  ADD COLUMN hold_reason     text,
  ADD COLUMN match_rule      text,
  ADD COLUMN match_score     numeric(5, 4);
ALTER TABLE integration.ledger ALTER COLUMN hash_version SET DEFAULT 2;
COMMENT ON COLUMN integration.ledger.hash_version IS
  'How row_hash was computed: 1 (immutable content only; the state is attested by an event), 2 (content and the state at insert).';
COMMENT ON COLUMN integration.ledger.birth_status IS
  'Version 2: the status the entry was written with (its state at insert; later states are in its events).';
COMMENT ON COLUMN integration.ledger.birth_apply_seq IS
  'Version 2: the apply_seq the entry was written with; NULL when it was written unapplied (held).';
COMMENT ON COLUMN integration.ledger.hold_reason IS
  'Why the entry waits for a steward: on_certify, authority, confidence, not_auto_certified (applied, awaiting certification) or proposal.';
COMMENT ON COLUMN integration.ledger.match_rule IS
  'For an identity entry: the match rule that linked the record, with match_score.';

ALTER TABLE integration.ledger_event
  ADD COLUMN hash_version       smallint NOT NULL DEFAULT 1,
  ADD COLUMN kind               text NOT NULL DEFAULT 'status'
    CONSTRAINT ledger_event_kind_valid CHECK (kind IN ('status', 'approval', 'confirmation', 'proposal', 'restoration',
                                                       'attestation', 'identity')),
  ADD COLUMN target_note        text,
  ADD COLUMN batch_id           bigint,
  ADD COLUMN reason_code        text,
  ADD COLUMN after_applied      boolean,
  ADD COLUMN after_apply_seq    bigint,
  ADD COLUMN after_applied_at   timestamptz,
  ADD COLUMN after_confirmed_at timestamptz,
  ADD COLUMN after_certified_at timestamptz,
  ADD COLUMN after_certified_by bigint;
ALTER TABLE integration.ledger_event ALTER COLUMN hash_version SET DEFAULT 2;
COMMENT ON COLUMN integration.ledger_event.hash_version IS
  'How row_hash was computed: 1 (the event alone), 2 (the event and the entry''s whole state after it: to_status and the after_* columns).';
COMMENT ON COLUMN integration.ledger_event.kind IS
  'status (a status change), approval (a first steward''s approval under four eyes), confirmation (the source re-sent the value: confirmed_at moved), proposal (a steward proposed the entry), restoration (revoke re-applied an earlier entry), attestation (state attested at the move to hash version 2), identity (a merge or unmerge moved the entry).';
COMMENT ON COLUMN integration.ledger_event.target_note IS
  'What the event did to the target, in the system''s words (set back, left alone, forced over a conflict); notes holds the person''s own words.';
COMMENT ON COLUMN integration.ledger_event.batch_id IS
  'The steward decision batch the event belongs to (certify_where, reject_where), or NULL.';
COMMENT ON COLUMN integration.ledger_event.reason_code IS
  'A rejection''s reason code (integration.reject_reason), or NULL.';

-- ---------------------------------------------------------------------------
-- Links and the Merkle log
-- ---------------------------------------------------------------------------

-- One row per chain link: the record, the chain position the link ends at,
-- and the link (ledger_guard.sql). txid is the writing transaction, whose
-- order of beginning is the log's order; the primary key serves the
-- checkpoint's range scan by txid.
CREATE TABLE integration.ledger_link (
  txid         xid8   NOT NULL DEFAULT pg_current_xact_id(),
  link_id      bigint GENERATED ALWAYS AS IDENTITY,
  target_table text   NOT NULL,
  target_id    uuid   NOT NULL,
  chain_seq    bigint NOT NULL,
  link_hash    bytea  NOT NULL,
  PRIMARY KEY (txid, link_id)
);
COMMENT ON TABLE integration.ledger_link IS
  'Every chain link: the record, the chain position it seals up to, the link hash; appended to the Merkle log by integration.checkpoint().';

-- The log's leaves, in order: leaf_hash = SHA-256(0x00 || leaf), the leaf
-- being 'syncledger link v1' || 0x00 || link_hash (docs/proofs.md).
CREATE TABLE integration.merkle_leaf (
  leaf_index bigint PRIMARY KEY,
  txid       xid8   NOT NULL,
  link_id    bigint NOT NULL,
  leaf_hash  bytea  NOT NULL,
  CONSTRAINT merkle_leaf_once_per_link UNIQUE (txid, link_id)
);

-- The hashes of the complete subtrees above the leaves: node (level L,
-- index i) covers leaves i·2^L … (i+1)·2^L − 1 (level 0 is merkle_leaf).
CREATE TABLE integration.merkle_node (
  level      smallint NOT NULL,
  node_index bigint   NOT NULL,
  hash       bytea    NOT NULL,
  PRIMARY KEY (level, node_index)
);

-- Checkpoints taken: the tree's size and root at the time, and the txid
-- horizon below which every link had been appended.
CREATE TABLE integration.merkle_checkpoint (
  tree_size bigint      PRIMARY KEY,
  root      bytea       NOT NULL,
  horizon   xid8        NOT NULL,
  taken_at  timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------------------
-- A ledger written before: its links, and its entries' state attested
-- ---------------------------------------------------------------------------

-- The links so far: each run of elements sharing a chain_hash is one link.
INSERT INTO integration.ledger_link (txid, target_table, target_id, chain_seq, link_hash)
SELECT '0'::xid8, x.target_table, x.target_id, max(x.chain_seq), x.chain_hash
  FROM (SELECT l.target_table, l.target_id, l.chain_seq, l.chain_hash FROM integration.ledger l
        UNION ALL
        SELECT l.target_table, l.target_id, e.chain_seq, e.chain_hash
          FROM integration.ledger_event e JOIN integration.ledger l ON l.ledger_id = e.ledger_id) x
 GROUP BY x.target_table, x.target_id, x.chain_hash
 ORDER BY x.target_table, x.target_id, max(x.chain_seq);

-- One attestation event per entry, chained: one link per record.
WITH att AS MATERIALIZED (
  SELECT l.ledger_id, l.target_table, l.target_id,
         nextval(pg_get_serial_sequence('integration.ledger_event', 'event_id')) AS event_id,
         l.ledger_status, l.is_applied, l.apply_seq, l.applied_at, l.confirmed_at, l.certified_at, l.certified_by,
         row_number() OVER (PARTITION BY l.target_table, l.target_id ORDER BY l.ledger_id) AS k
    FROM integration.ledger l
   ORDER BY l.target_table, l.target_id, l.ledger_id
), dig AS MATERIALIZED (
  SELECT att.*,
         sha256(convert_to(ROW(2::smallint, att.event_id, att.ledger_id, 'attestation', att.ledger_status, att.ledger_status,
                               'migration', session_user::text, (extract(epoch FROM now()) * 1000000)::bigint,
                               'state attested when the ledger moved to hash version 2', NULL::text, NULL::bigint,
                               NULL::bigint, NULL::text, att.is_applied, att.apply_seq, (extract(epoch FROM att.applied_at) * 1000000)::bigint,
                               (extract(epoch FROM att.confirmed_at) * 1000000)::bigint,
                               (extract(epoch FROM att.certified_at) * 1000000)::bigint, att.certified_by)::text,
                           'UTF8')) AS d
    FROM att
), heads AS MATERIALIZED (
  SELECT dig.target_table, dig.target_id, count(*) AS cnt, c.length,
         sha256(c.head || string_agg(dig.d, ''::bytea ORDER BY dig.k)) AS link
    FROM dig JOIN integration.ledger_chain c ON c.target_table = dig.target_table AND c.target_id = dig.target_id
   GROUP BY dig.target_table, dig.target_id, c.length, c.head
), events AS (
  INSERT INTO integration.ledger_event
    (event_id, ledger_id, kind, from_status, to_status, actor, acting_role, occurred_at, notes, apply_seq, chain_seq, row_hash,
     chain_hash, hash_version, after_applied, after_apply_seq, after_applied_at, after_confirmed_at, after_certified_at,
     after_certified_by)
  OVERRIDING SYSTEM VALUE
  SELECT dig.event_id, dig.ledger_id, 'attestation', dig.ledger_status, dig.ledger_status, 'migration', session_user, now(),
         'state attested when the ledger moved to hash version 2', NULL, heads.length + dig.k, dig.d, heads.link, 2,
         dig.is_applied, dig.apply_seq, dig.applied_at, dig.confirmed_at, dig.certified_at, dig.certified_by
    FROM dig JOIN heads ON heads.target_table = dig.target_table AND heads.target_id = dig.target_id
   ORDER BY dig.target_table, dig.target_id, dig.k
), chains AS (
  UPDATE integration.ledger_chain c SET length = heads.length + heads.cnt, head = heads.link
    FROM heads WHERE c.target_table = heads.target_table AND c.target_id = heads.target_id
)
INSERT INTO integration.ledger_link (txid, target_table, target_id, chain_seq, link_hash)
SELECT '0'::xid8, heads.target_table, heads.target_id, heads.length + heads.cnt, heads.link
  FROM heads
 ORDER BY heads.target_table, heads.target_id;
