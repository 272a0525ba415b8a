-- 004_workbench.sql — the steward's workbench (SPEC §3): four eyes,
-- rejection reasons, decision batches, and the indexes a queue of a million
-- entries is worked through with.

-- Four eyes: with 2, a first steward's certify records an approval, and a
-- second, different steward's certifies.
ALTER TABLE integration.commit_policy
  ADD COLUMN approvals_required integer NOT NULL DEFAULT 1
    CONSTRAINT commit_policy_approvals_required_range CHECK (approvals_required BETWEEN 1 AND 2);
COMMENT ON COLUMN integration.commit_policy.approvals_required IS
  'Stewards who must certify a value: 1, or 2 (four eyes: an approval, then a certification by another steward).';

-- Why a value was rejected, in words an upstream can act on.
CREATE TABLE integration.reject_reason (
  reason_code text PRIMARY KEY
    CONSTRAINT reject_reason_code_format CHECK (reason_code ~ '^[a-z][a-z0-9_]*$'),
  description text NOT NULL,
  is_active   boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE integration.reject_reason IS
  'Reasons a steward gives when rejecting a value (integration.reject, reject_where); upstreams read them in integration.my_decisions.';
INSERT INTO integration.reject_reason (reason_code, description) VALUES
  ('wrong_value', 'The value is wrong: correct it in the source system.'),
  ('wrong_record', 'The value belongs to another record: check the record''s key in the source system.'),
  ('not_authoritative', 'This source is not authoritative for the field: the value is kept from another system.'),
  ('duplicate', 'The value duplicates one already decided.'),
  ('other', 'See the steward''s notes.');

-- One bulk decision: every entry it decided records its batch_id on the
-- event, so that the batch can be looked at and undone as one.
CREATE TABLE integration.decision_batch (
  batch_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  action         text        NOT NULL
    CONSTRAINT decision_batch_action_valid CHECK (action IN ('certify', 'reject', 'revoke')),
  steward        text        NOT NULL,
  acting_role    name        NOT NULL DEFAULT session_user,
  filter         jsonb       NOT NULL,
  notes          text,
  reason_code    text REFERENCES integration.reject_reason,
  max_ledger_id  bigint      NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  decided        bigint      NOT NULL DEFAULT 0,
  approved       bigint      NOT NULL DEFAULT 0,
  passed_over    bigint      NOT NULL DEFAULT 0
);
COMMENT ON TABLE integration.decision_batch IS
  'A bulk decision (certify_where, reject_where, or the revocation of a batch): its filter, the steward, and counts.';
COMMENT ON COLUMN integration.decision_batch.max_ledger_id IS
  'The newest entry when the batch was opened: entries recorded later are not part of it.';
COMMENT ON COLUMN integration.decision_batch.passed_over IS
  'Matching entries left as they were: decided by someone else meanwhile, or in conflict (the target changed since).';

-- Decisions of a batch, for `revoke --batch`.
CREATE INDEX ledger_event_by_batch ON integration.ledger_event (batch_id) WHERE batch_id IS NOT NULL;
-- The queue in entry order, as bulk decisions walk it.
CREATE INDEX ledger_pending_by_id ON integration.ledger (ledger_id) WHERE ledger_status = 'Pending';

-- The source of a steward's own proposals (integration.propose). Not an
-- upstream: no login role, no subscriptions; list it in a policy's
-- authoritative_sources to let certified corrections outrank the sources.
INSERT INTO integration.source_system (source_system_key, display_name, login_role, is_active)
VALUES ('steward', 'Stewards'' own proposals', NULL, true)
ON CONFLICT (source_system_key) DO NOTHING;

-- The steward actions now answer with (ledger_id, ledger_status, outcome,
-- detail) instead of the whole ledger row, and the queue's views gained
-- columns: their old definitions go, sql/code/ creates the new ones.
DROP FUNCTION IF EXISTS integration.certify(bigint, text, text, boolean);
DROP FUNCTION IF EXISTS integration.reject(bigint, text, text);
DROP FUNCTION IF EXISTS integration.revoke(bigint, text, text);
DROP VIEW IF EXISTS integration.review_queue;

-- Why entries recorded before reasons were wait: from their item's message
-- (version 1 entries: their digest does not cover hold_reason).
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_trigger WHERE tgname = 'ledger_check_update' AND tgrelid = 'integration.ledger'::regclass) THEN
    ALTER TABLE integration.ledger DISABLE TRIGGER ledger_check_update;
  END IF;
  UPDATE integration.ledger l
     SET hold_reason = CASE WHEN l.is_applied THEN 'not_auto_certified'
                            WHEN i.process_message LIKE '%outranks this source%' THEN 'authority'
                            WHEN i.process_message LIKE '%mapping confidence%' THEN 'confidence'
                            ELSE 'on_certify' END
    FROM (SELECT l2.ledger_id, i2.process_message
            FROM integration.ledger l2 LEFT JOIN integration.sync_item i2 ON i2.item_id = l2.sync_item_id
           WHERE l2.ledger_status = 'Pending' AND l2.hold_reason IS NULL AND l2.hash_version = 1) i
   WHERE l.ledger_id = i.ledger_id;
  IF EXISTS (SELECT FROM pg_trigger WHERE tgname = 'ledger_check_update' AND tgrelid = 'integration.ledger'::regclass) THEN
    ALTER TABLE integration.ledger ENABLE TRIGGER ledger_check_update;
  END IF;
END
$$;

-- The queue is read in entry order (ledger_pending_by_id) and counted per
-- table (ledger_pending_by_table); one index fewer to maintain per decision.
DROP INDEX IF EXISTS integration.ledger_pending;
