-- ledger_guard.sql — what keeps the ledger honest (SPEC §3 "Who acts", §6):
-- changes by identity, not by a setting; a hash chain that makes edits,
-- deletions and reorderings detectable; and the integrity check an operator
-- schedules (integration.verify_ledger, `syncledger verify`).
--
--   SL001  the ledger is append-only (DELETE, TRUNCATE, an UPDATE by anyone
--          but the functions' owner)
--   SL002  an UPDATE of the ledger changes a column that is history
--   SL003  an UPDATE of the ledger makes a status transition that is not allowed
--
-- What the triggers prevent, and what the chain detects
--   The triggers refuse every change to the ledger and its events except
--   status transitions made by code running as the owner of
--   integration.ledger: the SECURITY DEFINER functions (the steward
--   functions, and the worker's integration.apply_chunk). No setting that a
--   session can set changes that. Roles other than the owner cannot get past
--   them at all. A superuser (or the owner) can: switch triggers off
--   (ALTER TABLE ... DISABLE TRIGGER, session_replication_role = replica),
--   UPDATE or DELETE directly. The chain below does not stop that; it makes
--   it visible to verify_ledger, which recomputes everything from the rows.
--   A superuser who also recomputes the hashes of everything after an edit
--   can hide it from a database-only check; against that, keep the digest
--   `syncledger verify` prints (integration.ledger_anchor()) somewhere the
--   database's superusers cannot write, and compare.
--
-- The chain: one per target record
--   Every ledger row and every event belongs to one target record (the
--   event through its entry). Each record's elements form a chain:
--   chain_seq numbers them 1, 2, 3, ... in the order they were written;
--   row_hash is the SHA-256 of the element's own content (its immutable
--   columns, in a canonical text form independent of session settings); and
--   each transaction that appends elements to a record seals them with one
--   link, chain_hash = SHA-256(previous link || row_hash of each new element,
--   in order), stored on each of them. The newest link and the chain's length
--   are kept per record in integration.ledger_chain.
--
--   Why per record and not one global chain: every writer of a record's
--   ledger (a worker chunk, certify, reject, revoke) already holds the
--   record's target row lock (the lock order of aspects.sql), so the
--   record's chain head is stable while it is extended, and writers of
--   different records never wait for each other. A global chain would make
--   every writer in the fleet queue on one row.
--
--   A changed value, source, status history or timestamp changes row_hash; a
--   deleted or moved element leaves a gap or a broken link in chain_seq order;
--   deleting the newest elements shortens the chain below its recorded
--   length. The entries' mutable state (status, certified by) is checked
--   against their events, which are in the chain.

-- ---------------------------------------------------------------------------
-- Append-only, by identity
-- ---------------------------------------------------------------------------

-- DELETE and TRUNCATE are refused at statement level, so that even a DELETE
-- matching no row fails: a script that tries to delete from the ledger is
-- wrong whatever it matches.
CREATE OR REPLACE FUNCTION integration.refuse_ledger_removal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only: % is refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'SL001',
          HINT = 'Ledger entries change only by status: use integration.reject or integration.revoke.';
END
$$;

-- ledger_event is history of history: no row of it ever changes.
CREATE OR REPLACE FUNCTION integration.refuse_ledger_event_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'integration.ledger_event is append-only: UPDATE is refused (event %)', OLD.event_id
    USING ERRCODE = 'SL001';
END
$$;

-- A ledger row may change only in the columns that record what happened to
-- it later, only along the status transitions of SPEC §3, and only from code
-- running as the ledger's owner (decided by who runs it, never by a setting
-- that a session could set).
-- Who: once per statement, the owner of the ledger: the role whose SECURITY
-- DEFINER functions are the only code allowed to change ledger rows.
CREATE OR REPLACE FUNCTION integration.check_ledger_updater() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_user IS DISTINCT FROM (SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID) THEN
    RAISE EXCEPTION 'integration.ledger is append-only: UPDATE is refused'
      USING ERRCODE = 'SL001',
            HINT = 'Change ledger status with integration.certify, integration.reject or integration.revoke.';
  END IF;
  RETURN NULL;
END
$$;

-- What: per row, the columns and the status transition.
CREATE OR REPLACE FUNCTION integration.check_ledger_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  kept    integration.ledger := NEW;
  changed text;
BEGIN
  -- Compared as a whole row, so that a column added later is protected by
  -- default: the new row with the columns that may change put back must be
  -- the old row.
  kept.ledger_status := OLD.ledger_status;
  kept.is_applied    := OLD.is_applied;
  kept.applied_at    := OLD.applied_at;
  kept.apply_seq     := OLD.apply_seq;
  kept.confirmed_at  := OLD.confirmed_at;
  kept.certified_at  := OLD.certified_at;
  kept.certified_by  := OLD.certified_by;
  IF kept IS DISTINCT FROM OLD THEN
    SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed
      FROM jsonb_each(to_jsonb(kept)) n
      JOIN jsonb_each(to_jsonb(OLD)) o USING (key)
     WHERE n.value IS DISTINCT FROM o.value;
    RAISE EXCEPTION 'integration.ledger is append-only: UPDATE of % is refused (ledger entry %)', changed, OLD.ledger_id
      USING ERRCODE = 'SL002',
            DETAIL = 'Only ledger_status, is_applied, applied_at, apply_seq, confirmed_at, certified_at and certified_by may change, each change with an event.';
  END IF;

  IF NEW.ledger_status IS DISTINCT FROM OLD.ledger_status
     AND (OLD.ledger_status, NEW.ledger_status) NOT IN
         (('Pending', 'Certified'), ('Pending', 'Rejected'), ('Certified', 'Revoked')) THEN
    RAISE EXCEPTION 'integration.ledger: status transition % → % is refused (ledger entry %)',
                    OLD.ledger_status, NEW.ledger_status, OLD.ledger_id
      USING ERRCODE = 'SL003',
            DETAIL = 'Allowed: Pending → Certified, Pending → Rejected, Certified → Revoked.';
  END IF;

  RETURN NEW;
END
$$;

-- The refusals fire even under session_replication_role = replica, which a
-- superuser could otherwise set to skip them. The ledger's UPDATE check stays
-- an ordinary trigger: a logical replica of the ledger must apply the
-- legitimate status updates it receives, and its apply worker runs with
-- session_replication_role = replica. A superuser can use that mode to update
-- ledger rows unchecked; the chain makes such an update visible.
CREATE OR REPLACE TRIGGER ledger_refuse_delete
  BEFORE DELETE ON integration.ledger
  FOR EACH STATEMENT EXECUTE FUNCTION integration.refuse_ledger_removal();
ALTER TABLE integration.ledger ENABLE ALWAYS TRIGGER ledger_refuse_delete;

CREATE OR REPLACE TRIGGER ledger_refuse_truncate
  BEFORE TRUNCATE ON integration.ledger
  FOR EACH STATEMENT EXECUTE FUNCTION integration.refuse_ledger_removal();
ALTER TABLE integration.ledger ENABLE ALWAYS TRIGGER ledger_refuse_truncate;

CREATE OR REPLACE TRIGGER ledger_check_updater
  BEFORE UPDATE ON integration.ledger
  FOR EACH STATEMENT EXECUTE FUNCTION integration.check_ledger_updater();

CREATE OR REPLACE TRIGGER ledger_check_update
  BEFORE UPDATE ON integration.ledger
  FOR EACH ROW EXECUTE FUNCTION integration.check_ledger_update();

CREATE OR REPLACE TRIGGER ledger_event_refuse_delete
  BEFORE DELETE ON integration.ledger_event
  FOR EACH STATEMENT EXECUTE FUNCTION integration.refuse_ledger_removal();
ALTER TABLE integration.ledger_event ENABLE ALWAYS TRIGGER ledger_event_refuse_delete;

CREATE OR REPLACE TRIGGER ledger_event_refuse_truncate
  BEFORE TRUNCATE ON integration.ledger_event
  FOR EACH STATEMENT EXECUTE FUNCTION integration.refuse_ledger_removal();
ALTER TABLE integration.ledger_event ENABLE ALWAYS TRIGGER ledger_event_refuse_truncate;

CREATE OR REPLACE TRIGGER ledger_event_refuse_update
  BEFORE UPDATE ON integration.ledger_event
  FOR EACH ROW EXECUTE FUNCTION integration.refuse_ledger_event_update();
ALTER TABLE integration.ledger_event ENABLE ALWAYS TRIGGER ledger_event_refuse_update;

-- ---------------------------------------------------------------------------
-- Digests
-- ---------------------------------------------------------------------------
--
-- An element's row_hash is the SHA-256 of a row literal of its columns (an
-- unambiguous text form: NULL and '' differ, separators are quoted),
-- timestamps entering as microseconds since the epoch, so the same text
-- whatever TimeZone or DateStyle the session has. docs/proofs.md spells the
-- formulas out for an independent verifier.
--
-- Version 1 (rows written before the ledger's hash version 2) covered an
-- entry's immutable content only; its state was attested by an event when
-- the ledger moved to version 2 (sql/schema/003_ledger_v2.sql). Version 2
-- covers an entry's content and its state at insert, and an event's content
-- and the entry's whole state after it: every column that decides
-- ownership, status or staleness is in the chain.

-- STABLE, not IMMUTABLE, like extract() itself: so that PostgreSQL inlines
-- it (and the digests below) into the statements that call them.
CREATE OR REPLACE FUNCTION integration.epoch_us(p_at timestamptz) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT (extract(epoch FROM p_at) * 1000000)::bigint
$$;

-- Version 1 digest of a ledger entry: its immutable columns.
CREATE OR REPLACE FUNCTION integration.entry_digest(
  p_ledger_id bigint, p_table text, p_id uuid, p_aspect text, p_key text, p_source text, p_value text,
  p_previous text, p_item bigint, p_job bigint, p_source_timestamp timestamptz, p_recorded_at timestamptz)
RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT sha256(convert_to(ROW(p_ledger_id, p_table, p_id, p_aspect, p_key, p_source, p_value, p_previous, p_item,
                               p_job, integration.epoch_us(p_source_timestamp), integration.epoch_us(p_recorded_at))::text,
                           'UTF8'))
$$;

-- Version 2 digest of a ledger entry: its content and its state at insert
-- (birth_status; birth_apply_seq, NULL when it was written unapplied; its
-- clocks at insert are its recorded_at).
CREATE OR REPLACE FUNCTION integration.entry_digest_v2(
  p_ledger_id bigint, p_table text, p_id uuid, p_aspect text, p_key text, p_source text, p_value text,
  p_previous text, p_item bigint, p_job bigint, p_source_timestamp timestamptz, p_recorded_at timestamptz,
  p_birth_status text, p_birth_apply_seq bigint, p_notes text, p_hold_reason text, p_match_rule text,
  p_match_score numeric)
RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT sha256(convert_to(ROW(2::smallint, p_ledger_id, p_table, p_id, p_aspect, p_key, p_source, p_value, p_previous,
                               p_item, p_job, integration.epoch_us(p_source_timestamp), integration.epoch_us(p_recorded_at),
                               p_birth_status, p_birth_apply_seq, p_notes, p_hold_reason, p_match_rule, p_match_score)::text,
                           'UTF8'))
$$;

-- Version 1 digest of an event.
CREATE OR REPLACE FUNCTION integration.event_digest(
  p_event_id bigint, p_ledger_id bigint, p_from text, p_to text, p_actor text, p_role name, p_at timestamptz,
  p_notes text, p_apply_seq bigint)
RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT sha256(convert_to(ROW(p_event_id, p_ledger_id, p_from, p_to, p_actor, p_role::text, integration.epoch_us(p_at),
                               p_notes, p_apply_seq)::text,
                           'UTF8'))
$$;

-- Version 2 digest of an event: the event and its entry's state after it.
CREATE OR REPLACE FUNCTION integration.event_digest_v2(
  p_event_id bigint, p_ledger_id bigint, p_kind text, p_from text, p_to text, p_actor text, p_role name, p_at timestamptz,
  p_notes text, p_target_note text, p_apply_seq bigint, p_batch_id bigint, p_reason_code text, p_applied boolean,
  p_after_apply_seq bigint,
  p_applied_at timestamptz, p_confirmed_at timestamptz, p_certified_at timestamptz, p_certified_by bigint)
RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT sha256(convert_to(ROW(2::smallint, p_event_id, p_ledger_id, p_kind, p_from, p_to, p_actor, p_role::text,
                               integration.epoch_us(p_at), p_notes, p_target_note, p_apply_seq, p_batch_id, p_reason_code,
                               p_applied,
                               p_after_apply_seq, integration.epoch_us(p_applied_at), integration.epoch_us(p_confirmed_at),
                               integration.epoch_us(p_certified_at), p_certified_by)::text,
                           'UTF8'))
$$;

-- The digest a stored entry should have, by its hash version.
CREATE OR REPLACE FUNCTION integration.stored_entry_digest(l integration.ledger)
RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE l.hash_version
    WHEN 1 THEN integration.entry_digest(l.ledger_id, l.target_table, l.target_id, l.ledger_aspect, l.aspect_key,
                                         l.source_system_key, l.value, l.previous_value, l.sync_item_id, l.job_id,
                                         l.source_timestamp, l.recorded_at)
    ELSE integration.entry_digest_v2(l.ledger_id, l.target_table, l.target_id, l.ledger_aspect, l.aspect_key,
                                     l.source_system_key, l.value, l.previous_value, l.sync_item_id, l.job_id,
                                     l.source_timestamp, l.recorded_at, l.birth_status, l.birth_apply_seq, l.notes,
                                     l.hold_reason, l.match_rule, l.match_score)
  END
$$;

-- The digest a stored event should have, by its hash version.
CREATE OR REPLACE FUNCTION integration.stored_event_digest(e integration.ledger_event)
RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE e.hash_version
    WHEN 1 THEN integration.event_digest(e.event_id, e.ledger_id, e.from_status, e.to_status, e.actor, e.acting_role,
                                         e.occurred_at, e.notes, e.apply_seq)
    ELSE integration.event_digest_v2(e.event_id, e.ledger_id, e.kind, e.from_status, e.to_status, e.actor, e.acting_role,
                                     e.occurred_at, e.notes, e.target_note, e.apply_seq, e.batch_id, e.reason_code, e.after_applied,
                                     e.after_apply_seq, e.after_applied_at, e.after_confirmed_at, e.after_certified_at,
                                     e.after_certified_by)
  END
$$;

-- The link a record's chain starts from: binds the chain to its record, so a
-- chain copied onto another record does not verify.
CREATE OR REPLACE FUNCTION integration.chain_genesis(p_table text, p_id uuid) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256(convert_to('syncledger chain ' || p_table || ' ' || p_id::text, 'UTF8'))
$$;

-- ---------------------------------------------------------------------------
-- Appending
-- ---------------------------------------------------------------------------

-- chain_append(tables, ids, digests): appends elements (given in order, each
-- with its record and row_hash) to their records' chains, one link per record,
-- and returns each element's chain_seq and link. Each link is also recorded in
-- integration.ledger_link, from which checkpoints build the Merkle log. The
-- caller holds the records' target row locks (so each head is stable) and
-- inserts the elements with these values in the same transaction.
CREATE OR REPLACE FUNCTION integration.chain_append(p_tables text[], p_ids uuid[], p_digests bytea[])
RETURNS TABLE (ord integer, chain_seq bigint, chain_hash bytea)
LANGUAGE plpgsql
SET enable_seqscan = off SET jit = off
AS $$
BEGIN
  -- PL/pgSQL rather than SQL, for its cached plan: a SQL function is planned
  -- again on every call, and it is called for every chunk.
  RETURN QUERY
  WITH e AS MATERIALIZED (
    SELECT u.n::integer AS n, u.t, u.id, u.d
      FROM unnest(p_tables, p_ids, p_digests) WITH ORDINALITY AS u(t, id, d, n)
  ), r AS (
    SELECT e.t, e.id, count(*) AS cnt, string_agg(e.d, ''::bytea ORDER BY e.n) AS ds
      FROM e GROUP BY e.t, e.id
  ), h AS MATERIALIZED (
    -- One index probe per record (LATERAL ... LIMIT 1 is never turned into a
    -- scan of every chain, however stale the table's statistics).
    SELECT r.t, r.id, r.cnt, coalesce(c.length, 0) AS len,
           sha256(coalesce(c.head, integration.chain_genesis(r.t, r.id)) || r.ds) AS link
      FROM r
      LEFT JOIN LATERAL (SELECT c.length, c.head FROM integration.ledger_chain c
                          WHERE c.target_table = r.t AND c.target_id = r.id LIMIT 1) c ON true
  ), moved AS (
    -- Existing chains move their head (an UPDATE: cheaper than an upsert's
    -- conflict); new ones start.
    UPDATE integration.ledger_chain c SET length = h.len + h.cnt, head = h.link
      FROM h WHERE h.len > 0 AND c.target_table = h.t AND c.target_id = h.id
  ), started AS (
    INSERT INTO integration.ledger_chain (target_table, target_id, length, head)
    SELECT h.t, h.id, h.cnt, h.link FROM h WHERE h.len = 0
  ), link AS (
    INSERT INTO integration.ledger_link (target_table, target_id, chain_seq, link_hash)
    SELECT h.t, h.id, h.len + h.cnt, h.link FROM h ORDER BY h.t, h.id
  )
  SELECT e.n, h.len + row_number() OVER (PARTITION BY e.t, e.id ORDER BY e.n), h.link
    FROM e JOIN h ON h.t = e.t AND h.id = e.id
   ORDER BY e.n;
END
$$;

-- record_events(events, batch): inserts events after the caller changed
-- their entries (steward decisions, approvals, restorations, proposals),
-- each with its entry's state as it is now (version 2 digests), chained onto
-- the entries' records, one link per record. The caller holds the records'
-- target row locks. Each element of `events` (a JSON array, in order) is one
-- event: ledger_id, kind (default status), from, to, actor, notes (the
-- person's words), target_note (what happened to the target, in the
-- system's words), apply_seq (the apply order the event took, if it applied
-- the value), reason_code. acting_role is the session's login role; batch
-- the decision batch of them all, or NULL.
CREATE OR REPLACE FUNCTION integration.record_events(p_events jsonb, p_batch bigint DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  at timestamptz := now();
BEGIN
  WITH ev AS MATERIALIZED (
    SELECT u.o::integer AS ord,
           nextval(pg_get_serial_sequence('integration.ledger_event', 'event_id')::regclass) AS event_id,
           u.ledger_id, coalesce(u.kind, 'status') AS kind, u."from" AS f, u."to" AS t, u.actor, u.notes, u.target_note,
           u.apply_seq, u.reason_code, l.target_table, l.target_id, l.is_applied, l.apply_seq AS after_seq, l.applied_at,
           l.confirmed_at, l.certified_at, l.certified_by
      FROM ROWS FROM (jsonb_to_recordset(p_events)
                      AS (ledger_id bigint, kind text, "from" text, "to" text, actor text, notes text, target_note text,
                          apply_seq bigint, reason_code text))
           WITH ORDINALITY AS u(ledger_id, kind, "from", "to", actor, notes, target_note, apply_seq, reason_code, o)
      JOIN integration.ledger l ON l.ledger_id = u.ledger_id
     ORDER BY u.o
  ), dig AS MATERIALIZED (
    SELECT ev.*,
           integration.event_digest_v2(ev.event_id, ev.ledger_id, ev.kind, ev.f, ev.t, ev.actor, session_user, at, ev.notes,
                                       ev.target_note, ev.apply_seq, p_batch, ev.reason_code, ev.is_applied, ev.after_seq,
                                       ev.applied_at, ev.confirmed_at, ev.certified_at, ev.certified_by) AS d
      FROM ev
  ), chained AS (
    SELECT c.* FROM integration.chain_append(
      ARRAY(SELECT dig.target_table FROM dig ORDER BY dig.ord),
      ARRAY(SELECT dig.target_id FROM dig ORDER BY dig.ord),
      ARRAY(SELECT dig.d FROM dig ORDER BY dig.ord)) c
  )
  INSERT INTO integration.ledger_event
    (event_id, ledger_id, kind, from_status, to_status, actor, acting_role, occurred_at, notes, target_note, apply_seq,
     chain_seq, row_hash, chain_hash, batch_id, reason_code, after_applied, after_apply_seq, after_applied_at,
     after_confirmed_at, after_certified_at, after_certified_by)
  OVERRIDING SYSTEM VALUE
  SELECT dig.event_id, dig.ledger_id, dig.kind, dig.f, dig.t, dig.actor, session_user, at, dig.notes, dig.target_note,
         dig.apply_seq, chained.chain_seq, dig.d, chained.chain_hash, p_batch, dig.reason_code, dig.is_applied,
         dig.after_seq, dig.applied_at, dig.confirmed_at, dig.certified_at, dig.certified_by
    FROM dig JOIN chained ON chained.ord = dig.ord
   ORDER BY dig.ord;
END
$$;

-- ---------------------------------------------------------------------------
-- Verification
-- ---------------------------------------------------------------------------

-- verify_ledger(): recomputes every digest, link and head from the rows, and
-- every entry's state from hashed content, and compares them with what is
-- stored. One row per finding, in the order of the records' chains, each
-- naming the entry (and event) concerned:
--
--   content  an entry's or event's columns no longer match its row_hash
--   order    a gap, a repeat or a reordering in a record's chain positions
--            (an element was deleted or moved)
--   link     a link that does not recompute (hashes were rewritten or an
--            element of the link was removed), or that integration.ledger_link
--            does not record as it is
--   absence  the newest elements of a record's chain are missing (shorter
--            than its recorded length), an event's entry or an item's ledger
--            entry does not exist
--   state    an entry's stored state (status, applied, apply_seq, applied_at,
--            confirmed_at, certified_at, certified_by) is not the state its
--            hashed history gives: its last version 2 event's, or, with none,
--            its own at insert (version 2); a version 1 entry without an
--            attested state
--
-- Empty on a healthy database. Reads the whole ledger: the digests in
-- parallel scans, the chains in one sort of their elements. Schedule it
-- (`syncledger verify`); do not call it per request.
CREATE OR REPLACE FUNCTION integration.verify_ledger()
RETURNS TABLE (finding text, target_table text, target_id uuid, ledger_id bigint, event_id bigint, detail text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
SET work_mem = '512MB' SET jit = off SET parallel_tuple_cost = 0.001
AS $$
#variable_conflict use_column
BEGIN
  -- PL/pgSQL for RETURN QUERY, whose plan may be parallel: the digests are
  -- recomputed by a parallel scan of each table, apart from the one sort of
  -- the chains' elements (which carries no digest). The scans return next
  -- to nothing, which the planner cannot know (parallel_tuple_cost).
  RETURN QUERY
  WITH el AS (
    SELECT l.target_table AS t, l.target_id AS id, l.ledger_id AS lid, NULL::bigint AS eid, l.chain_seq AS seq,
           l.row_hash, l.chain_hash
      FROM integration.ledger l
    UNION ALL
    SELECT l.target_table, l.target_id, e.ledger_id, e.event_id, e.chain_seq, e.row_hash, e.chain_hash
      FROM integration.ledger_event e JOIN integration.ledger l ON l.ledger_id = e.ledger_id
  ), ordered AS (
    SELECT el.*,
           row_number() OVER w AS pos,
           lag(el.chain_hash) OVER w AS prev_hash,
           lead(el.lid) OVER w IS NULL AS is_last
      FROM el
    WINDOW w AS (PARTITION BY el.t, el.id ORDER BY el.seq, el.eid NULLS FIRST, el.lid)
  ), runs AS (
    -- A link's elements: consecutive elements sharing one chain_hash.
    SELECT o.*, sum(CASE WHEN o.prev_hash IS DISTINCT FROM o.chain_hash THEN 1 ELSE 0 END)
                  OVER (PARTITION BY o.t, o.id ORDER BY o.pos) AS run
      FROM ordered o
  ), links AS (
    SELECT r.t, r.id, r.run, min(r.pos) AS first_pos, max(r.pos) AS last_pos, (array_agg(r.chain_hash))[1] AS stored,
           string_agg(r.row_hash, ''::bytea ORDER BY r.pos) AS hashes
      FROM runs r GROUP BY r.t, r.id, r.run
  ), link_check AS (
    SELECT k.*, sha256(coalesce(lag(k.stored) OVER (PARTITION BY k.t, k.id ORDER BY k.run),
                                integration.chain_genesis(k.t, k.id)) || k.hashes) AS recomputed
      FROM links k
  ), last AS (
    SELECT o.t, o.id, o.lid, o.eid, o.pos, o.chain_hash FROM ordered o WHERE o.is_last
  ), last_state AS (
    SELECT DISTINCT ON (e.ledger_id) e.ledger_id, e.event_id, e.to_status, e.after_applied, e.after_apply_seq,
           e.after_applied_at, e.after_confirmed_at, e.after_certified_at, e.after_certified_by
      FROM integration.ledger_event e
     WHERE e.hash_version >= 2
     ORDER BY e.ledger_id, e.chain_seq DESC, e.event_id DESC
  ), findings AS (
    SELECT 'content' AS finding, l.target_table AS t, l.target_id AS id, l.ledger_id AS lid, NULL::bigint AS eid,
           l.chain_seq AS sort_pos,
           format('ledger entry %s: its content does not match its row_hash (a column was changed)', l.ledger_id) AS detail
      FROM integration.ledger l WHERE l.row_hash IS DISTINCT FROM integration.stored_entry_digest(l)
    UNION ALL
    SELECT 'content', l.target_table, l.target_id, e.ledger_id, e.event_id, e.chain_seq,
           format('event %s of ledger entry %s: its content does not match its row_hash (a column was changed)', e.event_id, e.ledger_id)
      FROM integration.ledger_event e LEFT JOIN integration.ledger l ON l.ledger_id = e.ledger_id
     WHERE e.row_hash IS DISTINCT FROM integration.stored_event_digest(e)
    UNION ALL
    SELECT 'order', o.t, o.id, o.lid, o.eid, o.pos,
           format('%s: chain position %s where %s was expected (an element before it was deleted or moved)',
                  CASE WHEN o.eid IS NULL THEN format('ledger entry %s', o.lid)
                       ELSE format('event %s of ledger entry %s', o.eid, o.lid) END,
                  o.seq, o.pos)
      FROM ordered o WHERE o.seq IS DISTINCT FROM o.pos
    UNION ALL
    SELECT 'link', k.t, k.id, o.lid, o.eid, k.first_pos,
           format('the link sealing chain positions %s..%s of %s %s does not recompute (starting at %s)',
                  k.first_pos, k.last_pos, k.t, k.id,
                  CASE WHEN o.eid IS NULL THEN format('ledger entry %s', o.lid)
                       ELSE format('event %s of ledger entry %s', o.eid, o.lid) END)
      FROM link_check k
      JOIN ordered o ON o.t = k.t AND o.id = k.id AND o.pos = k.first_pos
     WHERE k.recomputed IS DISTINCT FROM k.stored
    UNION ALL
    SELECT 'link', coalesce(k.t, x.target_table), coalesce(k.id, x.target_id), NULL, NULL, coalesce(k.last_pos, x.chain_seq),
           CASE WHEN x.link_hash IS NULL
                THEN format('the link sealing chain positions %s..%s of %s %s is not in integration.ledger_link',
                            k.first_pos, k.last_pos, k.t, k.id)
                ELSE format('integration.ledger_link records a link of %s %s up to chain position %s that its chain does not have',
                            x.target_table, x.target_id, x.chain_seq) END
      FROM link_check k
      FULL JOIN integration.ledger_link x
        ON x.target_table = k.t AND x.target_id = k.id AND x.chain_seq = k.last_pos AND x.link_hash = k.stored
     WHERE k.t IS NULL OR x.link_hash IS NULL
    UNION ALL
    SELECT 'absence', coalesce(c.target_table, last.t), coalesce(c.target_id, last.id), last.lid, last.eid,
           coalesce(last.pos, 0) + 1,
           CASE WHEN c.target_table IS NULL
                THEN format('%s %s: its chain has %s elements but no recorded head', last.t, last.id, last.pos)
                ELSE format('%s %s: its chain has %s elements but %s were recorded, or its newest link differs: the newest were deleted',
                            c.target_table, c.target_id, coalesce(last.pos, 0), c.length) END
      FROM integration.ledger_chain c
      FULL JOIN last ON last.t = c.target_table AND last.id = c.target_id
     WHERE c.target_table IS NULL OR coalesce(last.pos, 0) <> c.length OR last.chain_hash IS DISTINCT FROM c.head
    UNION ALL
    SELECT 'absence', NULL, NULL, e.ledger_id, e.event_id, 0,
           format('event %s refers to ledger entry %s, which does not exist (it was deleted)', e.event_id, e.ledger_id)
      FROM integration.ledger_event e
     WHERE NOT EXISTS (SELECT FROM integration.ledger l WHERE l.ledger_id = e.ledger_id)
    UNION ALL
    SELECT 'absence', i.target_table, i.target_id, i.ledger_id, NULL, 0,
           format('sync item %s refers to ledger entry %s, which does not exist (it was deleted)', i.item_id, i.ledger_id)
      FROM integration.sync_item i
     WHERE i.ledger_id IS NOT NULL AND NOT EXISTS (SELECT FROM integration.ledger l WHERE l.ledger_id = i.ledger_id)
    UNION ALL
    SELECT 'state', x.target_table, x.target_id, x.ledger_id, x.event_id, x.chain_seq,
           CASE WHEN x.expected IS NULL
                THEN format('ledger entry %s has no attested state (its attestation event is missing)', x.ledger_id)
                ELSE format('ledger entry %s is stored as %s, but its hashed history says %s', x.ledger_id, x.stored,
                            x.expected) END
      FROM (SELECT l.target_table, l.target_id, l.ledger_id, s.event_id, l.chain_seq,
                   ROW(l.ledger_status, l.is_applied, l.apply_seq, l.applied_at, l.confirmed_at, l.certified_at,
                       l.certified_by) AS stored,
                   CASE WHEN s.ledger_id IS NOT NULL
                        THEN ROW(s.to_status, s.after_applied, s.after_apply_seq, s.after_applied_at, s.after_confirmed_at,
                                 s.after_certified_at, s.after_certified_by)
                        -- A version 2 entry without events is as it was written.
                        WHEN l.hash_version >= 2
                        THEN ROW(l.birth_status, l.birth_apply_seq IS NOT NULL, l.birth_apply_seq,
                                 CASE WHEN l.birth_apply_seq IS NOT NULL THEN l.recorded_at END,
                                 CASE WHEN l.birth_apply_seq IS NOT NULL THEN l.recorded_at END,
                                 CASE WHEN l.birth_status = 'Certified' THEN l.recorded_at END, NULL::bigint)
                   END AS expected
              FROM integration.ledger l
              LEFT JOIN last_state s ON s.ledger_id = l.ledger_id) x
     WHERE x.expected IS NULL OR x.stored IS DISTINCT FROM x.expected
  )
  SELECT f.finding, f.t, f.id, f.lid, f.eid, f.detail
    FROM findings f
   ORDER BY f.t NULLS FIRST, f.id, f.sort_pos, f.finding;
END
$$;
SELECT integration.use_canonical_settings('integration.verify_ledger()');

-- ledger_anchor(): one digest over every record's chain head: a quick
-- fingerprint of the ledger as it is now. It changes with every write, so
-- kept outside it cannot tell an append from a rewrite: for that, keep the
-- checkpoints of the Merkle log (proofs.sql, `syncledger checkpoint`).
CREATE OR REPLACE FUNCTION integration.ledger_anchor()
RETURNS TABLE (records bigint, elements bigint, anchor text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  SELECT count(*), coalesce(sum(c.length), 0),
         encode(sha256(coalesce(string_agg(convert_to(c.target_table || ' ' || c.target_id::text || ' ' || c.length::text, 'UTF8')
                                           || c.head, ''::bytea ORDER BY c.target_table, c.target_id), ''::bytea)), 'hex')
    FROM integration.ledger_chain c
$$;
