-- review.sql — what stewards and upstreams read (SPEC §3): the queue that
-- says why, stale values, field provenance, a record as of a moment, why a
-- field holds its value, and an upstream's own decisions.
--
-- Values of relationships are shown as the related record's external key
-- (record_label), not its id.

-- record_label(table, id): a record as people know it: its external keys,
-- "SOURCE:KEY", comma-separated in source order; its id when it has none.
CREATE OR REPLACE FUNCTION integration.record_label(p_table text, p_id uuid)
RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT string_agg(i.source_system_key || ':' || i.external_key, ', ' ORDER BY i.source_system_key)
                     FROM integration.identifier i
                    WHERE i.target_id = p_id AND i.target_table = p_table),
                  p_id::text)
$$;

-- shown_value(table, aspect, key, value): a value as the queue shows it: a
-- relationship's related record by its external keys, anything else as it is.
CREATE OR REPLACE FUNCTION integration.shown_value(p_table text, p_aspect text, p_key text, p_value text)
RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_aspect = 'Relationship' AND p_value IS NOT NULL
              THEN integration.record_label(integration.referenced_table(p_table, p_key), p_value::uuid)
              ELSE p_value END
$$;

-- What waits for a steward, and why. state: held (not applied, awaiting a
-- decision) or applied (awaiting certification); hold_reason and reason say
-- why (integration.entry_hold_reason, hold_sentence). Values of
-- relationships show the related record's external keys. has_conflict:
-- certify would refuse (SL030) without force, because the target no longer
-- holds previous_value (compared on the column's type). Filter it like a
-- decision batch with integration.queue_matches, or count it with
-- integration.queue_counts.
CREATE OR REPLACE VIEW integration.review_queue AS
SELECT l.ledger_id,
       l.target_table,
       l.target_id,
       integration.record_label(l.target_table, l.target_id) AS record_keys,
       l.ledger_aspect,
       l.aspect_key,
       l.source_system_key,
       CASE WHEN l.is_applied THEN 'applied' ELSE 'held' END AS state,
       l.is_applied,
       integration.entry_hold_reason(l.is_applied, l.hold_reason) AS hold_reason,
       integration.hold_sentence(integration.entry_hold_reason(l.is_applied, l.hold_reason), l.source_system_key,
                                 cur.owner_source) AS reason,
       integration.shown_value(l.target_table, l.ledger_aspect, l.aspect_key, l.value) AS proposed_value,
       integration.shown_value(l.target_table, l.ledger_aspect, l.aspect_key, cur.current_value) AS current_value,
       integration.shown_value(l.target_table, l.ledger_aspect, l.aspect_key, l.previous_value) AS previous_value,
       cur.owner_ledger_id,
       cur.owner_source,
       (NOT l.is_applied AND l.ledger_aspect <> 'Record'
        AND NOT integration.target_holds(l.target_table, l.target_id, l.ledger_aspect, l.aspect_key, l.previous_value))
         AS has_conflict,
       l.job_id,
       l.sync_item_id,
       l.source_timestamp,
       l.recorded_at,
       now() - l.recorded_at AS age,
       l.notes,
       l.confirmed_at
  FROM integration.ledger l
 CROSS JOIN LATERAL (
       -- OFFSET 0 keeps the subquery from being flattened, so the target and
       -- the owner are read once per row.
       SELECT CASE WHEN l.ledger_aspect = 'Record' THEN NULL
                   ELSE integration.current_value(l.target_table, l.target_id, l.aspect_key) END AS current_value,
              o.ledger_id AS owner_ledger_id, o.source_system_key AS owner_source
         FROM (SELECT 1) one
         LEFT JOIN LATERAL integration.owner_entry(l.target_table, l.target_id, l.aspect_key) o ON true
       OFFSET 0) cur
 WHERE l.ledger_status = 'Pending';
COMMENT ON VIEW integration.review_queue IS
  'Pending ledger entries: held or applied, why (hold_reason, reason), proposed/current/previous value (related records by external key), the owner''s source, the record''s external keys, has_conflict (certify needs force), age.';

-- Certified values whose source has not re-sent them within the policy's
-- stale_after_days: they no longer outrank other sources (SPEC §2, Authority)
-- and a steward may want to confirm them.
CREATE OR REPLACE VIEW integration.stale_values AS
SELECT o.ledger_id,
       o.target_table,
       o.target_id,
       o.ledger_aspect,
       o.aspect_key,
       o.source_system_key,
       o.value,
       CASE WHEN o.ledger_aspect = 'Record' THEN NULL
            ELSE integration.current_value(o.target_table, o.target_id, o.aspect_key) END AS current_value,
       o.stale_clock AS last_confirmed_at,
       p.stale_after_days,
       o.stale_clock + make_interval(days => p.stale_after_days) AS stale_since,
       o.certified_at,
       u.user_name AS certified_by
  FROM integration.aspect_owner o
 CROSS JOIN LATERAL integration.aspect_policy(o.target_table, o.ledger_aspect, o.aspect_key) p
  LEFT JOIN integration.app_user u ON u.user_id = o.certified_by
 WHERE o.ledger_status = 'Certified'
   AND integration.is_stale(o.stale_clock, p.stale_after_days, now());
COMMENT ON VIEW integration.stale_values IS
  'Certified values owning their aspect whose staleness clock is older than the policy''s stale_after_days.';

-- Where each governed value of each record came from. One row per aspect
-- with ledger entries; the owner columns are NULL when no entry owns it
-- (all pending and unapplied, or rejected, or revoked).
CREATE OR REPLACE VIEW integration.field_provenance AS
SELECT a.target_table,
       a.target_id,
       a.ledger_aspect,
       a.aspect_key,
       CASE WHEN a.ledger_aspect = 'Record' THEN NULL
            ELSE integration.current_value(a.target_table, a.target_id, a.aspect_key) END AS current_value,
       o.ledger_id,
       o.value AS ledger_value,
       o.source_system_key,
       o.ledger_status,
       u.user_name AS certified_by,
       o.certified_at,
       o.applied_at,
       o.confirmed_at,
       o.recorded_at,
       a.pending_entries,
       a.ledger_entries,
       o.apply_seq
  FROM (SELECT l.target_table, l.target_id, l.ledger_aspect, l.aspect_key,
               count(*) FILTER (WHERE l.ledger_status = 'Pending') AS pending_entries,
               count(*) AS ledger_entries
          FROM integration.ledger l
         GROUP BY l.target_table, l.target_id, l.ledger_aspect, l.aspect_key) a
  LEFT JOIN integration.aspect_owner o
    ON o.target_table = a.target_table AND o.target_id = a.target_id AND o.aspect_key = a.aspect_key
  LEFT JOIN integration.app_user u ON u.user_id = o.certified_by;
COMMENT ON VIEW integration.field_provenance IS
  'Per record and aspect: current value and the owning ledger entry (source, status, certified by and when).';

-- Suspect pairs for stewards: both records by their external keys and the
-- rule's fields, the rule and score, and what became of the pair.
CREATE OR REPLACE VIEW integration.suspect_queue AS
SELECT s.suspect_id,
       s.status,
       s.target_table,
       s.target_id,
       integration.record_label(s.target_table, s.target_id) AS target_keys,
       integration.record_fields(s.target_table, s.target_id, r.fields) AS target_values,
       s.candidate_id,
       integration.record_label(s.target_table, s.candidate_id) AS candidate_keys,
       integration.record_fields(s.target_table, s.candidate_id, r.fields) AS candidate_values,
       s.rule_name,
       s.score,
       s.source_system_key,
       s.found_at,
       now() - s.found_at AS age,
       s.decided_at,
       s.decided_by,
       s.notes,
       s.merge_id
  FROM integration.match_suspect s
  LEFT JOIN integration.match_rule r ON r.rule_id = s.rule_id;
COMMENT ON VIEW integration.suspect_queue IS
  'Suspect pairs (match_suspect) with both records'' external keys and rule fields; status open, merged or dismissed.';

-- ---------------------------------------------------------------------------
-- History
-- ---------------------------------------------------------------------------

-- entry_states_as_of(table, id, at): every entry of a record recorded by
-- `at`, with its state then: the state after its last event by then (version
-- 2 events record the entry's whole state after them), or its state at
-- insert. Times are the transactions' own (recorded_at, occurred_at: when the
-- writing transaction began). For entries and events of hash version 1
-- (recorded before this release), whose history records less, the state is
-- the event's status with the apply order the entry had then or has now.
CREATE OR REPLACE FUNCTION integration.entry_states_as_of(p_table text, p_id uuid, p_at timestamptz)
RETURNS TABLE (ledger_id bigint, ledger_aspect text, aspect_key text, source_system_key text, value text,
               ledger_status text, is_applied boolean, apply_seq bigint, certified_by bigint, certified_at timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT l.ledger_id, l.ledger_aspect, l.aspect_key, l.source_system_key, l.value,
         coalesce(v.to_status, l.birth_status, 'Pending'),
         CASE WHEN v.event_id IS NULL THEN coalesce(l.birth_apply_seq IS NOT NULL,
                                                     l.is_applied AND l.applied_at <= p_at)
              WHEN v.hash_version >= 2 THEN v.after_applied
              ELSE l.is_applied AND l.applied_at <= p_at OR v.apply_seq IS NOT NULL END,
         CASE WHEN v.event_id IS NULL THEN coalesce(l.birth_apply_seq, l.apply_seq)
              WHEN v.hash_version >= 2 THEN v.after_apply_seq
              ELSE coalesce(v.apply_seq, l.apply_seq) END,
         CASE WHEN v.hash_version >= 2 THEN v.after_certified_by WHEN v.to_status = 'Certified' THEN l.certified_by END,
         CASE WHEN v.hash_version >= 2 THEN v.after_certified_at WHEN v.to_status = 'Certified' THEN v.occurred_at END
    FROM integration.ledger l
    LEFT JOIN LATERAL (
          SELECT e.event_id, e.to_status, e.hash_version, e.after_applied, e.after_apply_seq, e.after_certified_by,
                 e.after_certified_at, e.apply_seq, e.occurred_at
            FROM integration.ledger_event e
           WHERE e.ledger_id = l.ledger_id AND e.occurred_at <= p_at
           ORDER BY e.event_id DESC
           LIMIT 1) v ON true
   WHERE l.target_table = p_table AND l.target_id = p_id AND l.recorded_at <= p_at
$$;

-- record_as_of(table, id, at): every governed aspect of a record as it
-- stood at `at`, one row per aspect that had entries by then: the entry that
-- owned it (ownership as owner_entry defines it, on the entries' states
-- then), its value, source and status then. An aspect no entry owned then
-- has a row with NULLs. Equals what field_provenance showed at that moment,
-- for every transaction that had begun and committed by then.
CREATE OR REPLACE FUNCTION integration.record_as_of(p_table text, p_id uuid, p_at timestamptz)
RETURNS TABLE (ledger_aspect text, aspect_key text, value text, ledger_id bigint, source_system_key text,
               ledger_status text, certified_by text, certified_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  WITH s AS MATERIALIZED (SELECT * FROM integration.entry_states_as_of(p_table, p_id, p_at))
  SELECT a.ledger_aspect, a.aspect_key, o.value, o.ledger_id, o.source_system_key, o.ledger_status, u.user_name,
         o.certified_at
    FROM (SELECT min(s.ledger_aspect) AS ledger_aspect, s.aspect_key FROM s GROUP BY s.aspect_key) a
    LEFT JOIN LATERAL (
          SELECT s.* FROM s
           WHERE s.aspect_key = a.aspect_key AND s.is_applied AND s.ledger_status IN ('Pending', 'Certified')
           ORDER BY s.apply_seq DESC
           LIMIT 1) o ON true
    LEFT JOIN integration.app_user u ON u.user_id = o.certified_by
   ORDER BY a.aspect_key
$$;

-- explain(table, id, aspect_key): the entries that competed for an aspect's
-- value, newest first: the one that owns it (verdict owner) and, for each
-- other one, why it does not:
--
--   held        not applied, waiting for a steward: reason names why
--               (authority, confidence, on_certify, proposal)
--   older       not applied, and a later value from the same source was
--               applied since
--   superseded  applied, but another entry was applied after it
--   rejected    rejected by a steward (reason code, notes)
--   revoked     certified, then revoked by a steward
CREATE OR REPLACE FUNCTION integration.explain(p_table text, p_id uuid, p_aspect_key text)
RETURNS TABLE (ledger_id bigint, source_system_key text, value text, ledger_status text, is_applied boolean,
               apply_seq bigint, recorded_at timestamptz, verdict text, reason text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, integration, pg_temp
AS $$
  WITH owner AS (SELECT o.ledger_id, o.source_system_key FROM integration.owner_entry(p_table, p_id, p_aspect_key) o),
  e AS (
    SELECT l.*, d.actor AS decided_by, d.reason_code, d.notes AS decision_notes, d.occurred_at AS decided_at,
           (SELECT max(n.ledger_id) FROM integration.ledger n
             WHERE n.target_table = l.target_table AND n.target_id = l.target_id AND n.aspect_key = l.aspect_key
               AND n.source_system_key = l.source_system_key AND n.ledger_id > l.ledger_id AND n.is_applied
               AND n.ledger_status IN ('Pending', 'Certified')) AS later_same
      FROM integration.ledger l
      LEFT JOIN LATERAL (
            SELECT v.actor, v.reason_code, v.notes, v.occurred_at FROM integration.ledger_event v
             WHERE v.ledger_id = l.ledger_id AND v.kind = 'status' AND v.to_status = l.ledger_status
             ORDER BY v.event_id DESC LIMIT 1) d ON true
     WHERE l.target_table = p_table AND l.target_id = p_id AND l.aspect_key = p_aspect_key)
  SELECT e.ledger_id, e.source_system_key, integration.shown_value(e.target_table, e.ledger_aspect, e.aspect_key, e.value),
         e.ledger_status, e.is_applied, e.apply_seq, e.recorded_at, x.verdict, x.reason
    FROM e
    LEFT JOIN owner ON true
   CROSS JOIN LATERAL (
         SELECT CASE
                  WHEN e.ledger_id = owner.ledger_id THEN 'owner'
                  WHEN e.ledger_status = 'Rejected' THEN 'rejected'
                  WHEN e.ledger_status = 'Revoked' THEN 'revoked'
                  WHEN e.is_applied THEN 'superseded'
                  WHEN e.later_same IS NOT NULL THEN 'older'
                  ELSE 'held' END AS verdict) v
   CROSS JOIN LATERAL (
         SELECT v.verdict,
                CASE v.verdict
                  WHEN 'owner' THEN format('owns the value: the %s entry applied last (apply_seq %s)',
                                           lower(e.ledger_status), e.apply_seq)
                  WHEN 'rejected' THEN concat(format('rejected by %s', e.decided_by),
                                              (SELECT format(' (%s: %s)', r.reason_code, r.description)
                                                 FROM integration.reject_reason r WHERE r.reason_code = e.reason_code),
                                              CASE WHEN e.decision_notes IS NOT NULL THEN ': ' || e.decision_notes END)
                  WHEN 'revoked' THEN concat(format('certified, then revoked by %s', e.decided_by),
                                             CASE WHEN e.decision_notes IS NOT NULL THEN ': ' || e.decision_notes END)
                  WHEN 'superseded' THEN format('superseded: ledger entry %s (from %s) was applied after it',
                                                coalesce(owner.ledger_id::text, 'none'),
                                                coalesce(owner.source_system_key, 'no source'))
                  WHEN 'older' THEN format('older: ledger entry %s, a later value from %s, was applied since',
                                           e.later_same, e.source_system_key)
                  ELSE integration.hold_sentence(integration.entry_hold_reason(e.is_applied, e.hold_reason),
                                                 e.source_system_key, owner.source_system_key)
                END AS reason) x
   ORDER BY e.ledger_id DESC
$$;

-- ---------------------------------------------------------------------------
-- An upstream's own decisions
-- ---------------------------------------------------------------------------

-- my_decisions: the stewards' decisions on the values the calling upstream
-- submitted (its own source systems only: my_source_systems, the rule of the
-- row-level security policies), with the reason code and its description,
-- the steward's notes, and the item and record (by this source's own key)
-- they concern. It shows the upstream's own value and nothing of another
-- system's: not the target's current value, not what the decision did to
-- the target (target_note).
CREATE OR REPLACE VIEW integration.my_decisions WITH (security_barrier) AS
SELECT l.ledger_id,
       l.source_system_key,
       l.sync_item_id AS item_id,
       l.job_id,
       l.target_table,
       i.external_key,
       l.aspect_key AS field,
       l.value,
       CASE v.kind WHEN 'approval' THEN 'Approved' ELSE v.to_status END AS decision,
       v.reason_code,
       r.description AS reason,
       v.notes,
       v.actor AS decided_by,
       v.occurred_at AS decided_at
  FROM integration.ledger l
  JOIN integration.ledger_event v ON v.ledger_id = l.ledger_id
  LEFT JOIN integration.identifier i
    ON i.target_id = l.target_id AND i.target_table = l.target_table AND i.source_system_key = l.source_system_key
  LEFT JOIN integration.reject_reason r ON r.reason_code = v.reason_code
 WHERE l.source_system_key = ANY ((SELECT integration.my_source_systems())::text[])
   AND ((v.kind = 'status' AND v.to_status IN ('Certified', 'Rejected', 'Revoked') AND v.actor <> 'policy')
        OR v.kind = 'approval');
COMMENT ON VIEW integration.my_decisions IS
  'For an upstream login: stewards'' decisions on its own values (Certified, Rejected with reason, Revoked, Approved), by its own record keys.';
