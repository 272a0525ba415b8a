-- stewardship_check.sql — checks 003_stewardship.sql and 004_outbound.sql
-- against a scratch database that has 001..004 applied and nothing else.
--
--   psql -v ON_ERROR_STOP=1 -d scratch -f sql/tests/stewardship_check.sql
--
-- Run it without -1: each steward call is its own transaction, as in use.
-- It creates a tiny target schema "core", crafts ledger rows and items the
-- way the worker does, and stops at the first failed check. The concurrent
-- certify case needs two sessions and is not in here.

\set QUIET on
\o /dev/null
SET client_min_messages = warning;

-- ---------------------------------------------------------------------------
-- Target schema and configuration
-- ---------------------------------------------------------------------------

CREATE SCHEMA core;
CREATE TABLE core.org (
  id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name      text,
  is_active boolean DEFAULT true
);
CREATE TABLE core.person (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  given_name     text,
  birth_date     date,
  marital_status text,
  employer_id    uuid REFERENCES core.org,
  is_active      boolean DEFAULT true
);
CREATE TABLE core.unregistered (id uuid PRIMARY KEY, secret text);

INSERT INTO integration.target_table (target_table, active_column) VALUES
  ('core.person', 'is_active'), ('core.org', 'is_active');

INSERT INTO integration.source_system (source_system_key, display_name, is_active) VALUES
  ('hr', 'HR', true), ('payroll', 'Payroll', true), ('cases', 'Case management', true),
  ('legacy', 'Legacy (retired)', false), ('crm', 'CRM (no subscription)', true);

INSERT INTO integration.app_user (user_name, is_steward, is_active) VALUES
  ('alice', true, true), ('bob', false, true), ('carol', true, false), ('dave', true, true);

INSERT INTO integration.commit_policy (target_table, field_name, commit_mode, code_list, stale_after_days) VALUES
  ('core.person', NULL, 'OnIngest', NULL, NULL),
  ('core.person', 'given_name', 'OnCertify', NULL, 30),
  ('core.person', 'birth_date', 'OnIngest', NULL, NULL),
  ('core.person', 'marital_status', 'OnIngest', 'marital_status', NULL),
  ('core.person', 'employer_id', 'OnIngest', NULL, NULL);

-- payroll has two codes for 'married' (the more confident one wins) and two
-- equally confident codes for 'single' (the lower map_id wins).
INSERT INTO integration.value_map (source_system_key, code_list, source_code, canonical_code_value, confidence) VALUES
  ('hr', 'marital_status', 'M', 'married', 1),
  ('hr', 'marital_status', 'S', 'single', 1),
  ('payroll', 'marital_status', '1', 'married', 0.9),
  ('payroll', 'marital_status', 'MAR', 'married', 1),
  ('payroll', 'marital_status', '2', 'single', 1),
  ('payroll', 'marital_status', '02', 'single', 1);

INSERT INTO integration.subscription (source_system_key, target_table, field_names) VALUES
  ('hr', 'core.person', NULL),
  ('payroll', 'core.person', '{given_name,marital_status,employer_id}'),
  ('cases', 'core.person', '{given_name}'),
  ('legacy', 'core.person', NULL);

INSERT INTO core.org (id, name) VALUES
  ('00000000-0000-0000-0000-0000000000a1', 'Org one'),
  ('00000000-0000-0000-0000-0000000000a2', 'Org two');
INSERT INTO core.person (id, given_name, birth_date) VALUES
  ('00000000-0000-0000-0000-000000000001', 'Rob', '1980-01-01'),
  ('00000000-0000-0000-0000-000000000002', NULL, NULL),
  ('00000000-0000-0000-0000-000000000003', NULL, NULL);

-- Person 1 is known to hr, payroll, legacy and crm, not to cases.
INSERT INTO integration.identifier (source_system_key, target_table, external_key, target_id) VALUES
  ('hr', 'core.person', 'H1', '00000000-0000-0000-0000-000000000001'),
  ('payroll', 'core.person', 'PY1', '00000000-0000-0000-0000-000000000001'),
  ('legacy', 'core.person', 'L1', '00000000-0000-0000-0000-000000000001'),
  ('crm', 'core.person', 'C1', '00000000-0000-0000-0000-000000000001'),
  ('hr', 'core.person', 'H2', '00000000-0000-0000-0000-000000000002'),
  ('payroll', 'core.person', 'PY2', '00000000-0000-0000-0000-000000000002'),
  ('cases', 'core.person', 'K2', '00000000-0000-0000-0000-000000000002'),
  ('hr', 'core.org', 'HO1', '00000000-0000-0000-0000-0000000000a1');

-- ---------------------------------------------------------------------------
-- Helpers: rows as the worker writes them
-- ---------------------------------------------------------------------------

-- One finished inbound job per crafted item, so counters are easy to check.
CREATE FUNCTION pg_temp.new_item(p_source text, p_key text, p_field text, p_value text, p_status text)
RETURNS integration.sync_item LANGUAGE sql AS $$
  WITH job AS (
    INSERT INTO integration.sync_job (source_system_key, job_status, items_total, items_held, items_applied)
    VALUES (p_source, 'Completed', 1, (p_status = 'Held')::int, (p_status = 'Applied')::int)
    RETURNING job_id)
  INSERT INTO integration.sync_item (job_id, external_key, target_table, operation, field_name, new_value, item_status)
  SELECT job_id, p_key, 'core.person', CASE WHEN p_field IS NULL THEN 'Delete' ELSE 'Set' END, p_field, p_value, p_status
    FROM job
  RETURNING *
$$;

-- A held value: Pending, not applied, previous_value = the target now.
CREATE FUNCTION pg_temp.held(p_id uuid, p_aspect text, p_key text, p_source text, p_value text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  it integration.sync_item := pg_temp.new_item(p_source, 'x', nullif(p_key, 'record'), p_value, 'Held');
  id bigint;
BEGIN
  INSERT INTO integration.ledger (target_table, target_id, ledger_aspect, aspect_key, source_system_key,
                                  ledger_status, value, previous_value, is_applied, sync_item_id, job_id)
  VALUES ('core.person', p_id, p_aspect, p_key, p_source, 'Pending', p_value,
          integration.aspect_state('core.person', p_id, p_aspect, p_key), false, it.item_id, it.job_id)
  RETURNING ledger_id INTO id;
  UPDATE integration.sync_item SET ledger_id = id, target_id = p_id WHERE item_id = it.item_id;
  RETURN id;
END
$$;

-- An applied value (Pending, or Certified by policy), written to the target.
CREATE FUNCTION pg_temp.applied(p_id uuid, p_aspect text, p_key text, p_source text, p_value text,
                                p_status text, p_at timestamptz DEFAULT now())
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  it   integration.sync_item := pg_temp.new_item(p_source, 'x', nullif(p_key, 'record'), p_value, 'Applied');
  prev text := integration.aspect_state('core.person', p_id, p_aspect, p_key);
  id   bigint;
BEGIN
  IF p_aspect <> 'Record' OR p_value = 'deleted' THEN
    PERFORM integration.write_target('core.person', p_id, p_aspect, p_key, p_value, NULL, false);
  END IF;
  INSERT INTO integration.ledger (target_table, target_id, ledger_aspect, aspect_key, source_system_key,
                                  ledger_status, value, previous_value, is_applied, applied_at,
                                  sync_item_id, job_id, certified_at)
  VALUES ('core.person', p_id, p_aspect, p_key, p_source, p_status, p_value, prev, true, p_at,
          it.item_id, it.job_id, CASE WHEN p_status = 'Certified' THEN p_at END)
  RETURNING ledger_id INTO id;
  UPDATE integration.sync_item SET ledger_id = id, target_id = p_id, applied_at = p_at WHERE item_id = it.item_id;
  RETURN id;
END
$$;

-- expect_error(sql, sqlstate, message pattern): the statement must fail so.
CREATE FUNCTION pg_temp.expect_error(p_sql text, p_state text, p_like text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE p_sql;
  RAISE EXCEPTION 'expected % (%) from: %', p_state, p_like, p_sql USING ERRCODE = 'XX000';
EXCEPTION WHEN others THEN
  IF SQLSTATE = 'XX000' THEN RAISE; END IF;
  IF SQLSTATE <> p_state OR SQLERRM NOT LIKE p_like THEN
    RAISE EXCEPTION 'from: %  expected % "%", got % "%"', p_sql, p_state, p_like, SQLSTATE, SQLERRM;
  END IF;
END
$$;

CREATE FUNCTION pg_temp.val(p_id uuid, p_col text) RETURNS text LANGUAGE sql AS $$
  SELECT integration.current_value('core.person', p_id, p_col)
$$;

-- Outbound items per receiver, as 'receiver:external_key:operation:field=value' lines.
CREATE FUNCTION pg_temp.outbound(p_ledger_id bigint) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(format('%s:%s:%s:%s=%s', j.source_system_key, i.external_key, i.operation,
                                    i.field_name, coalesce(i.new_value, 'NULL')), ' '
                             ORDER BY j.source_system_key, i.item_id), '')
    FROM integration.sync_item i JOIN integration.sync_job j USING (job_id)
   WHERE j.direction = 'Outbound' AND i.ledger_id = p_ledger_id
$$;

CREATE FUNCTION pg_temp.invariant() RETURNS void LANGUAGE plpgsql AS $$
DECLARE v text;
BEGIN
  SELECT string_agg(format('%s %s %s: %s <> %s (entry %s)', target_table, target_id, aspect_key,
                           current_value, expected_value, ledger_id), '; ')
    INTO v FROM integration.provenance_violations();
  IF v IS NOT NULL THEN RAISE EXCEPTION 'provenance violated: %', v; END IF;
END
$$;

CREATE TABLE pg_temp.ids (name text PRIMARY KEY, id bigint);
CREATE FUNCTION pg_temp.id(p_name text) RETURNS bigint LANGUAGE sql AS $$
  SELECT id FROM pg_temp.ids WHERE name = p_name
$$;

\echo 'certify a held value'
INSERT INTO pg_temp.ids SELECT 'e1', pg_temp.held('00000000-0000-0000-0000-000000000001', 'Field', 'given_name', 'hr', 'Robert');
DO $$
DECLARE e integration.ledger; j integration.sync_job; it integration.sync_item;
BEGIN
  ASSERT pg_temp.val('00000000-0000-0000-0000-000000000001', 'given_name') = 'Rob';
  ASSERT (SELECT current_value = 'Rob' AND proposed_value = 'Robert' AND previous_value = 'Rob'
                 AND NOT has_conflict AND NOT is_applied AND age >= interval '0'
            FROM integration.review_queue WHERE ledger_id = pg_temp.id('e1'));
END $$;
SELECT ledger_status, is_applied FROM integration.certify(pg_temp.id('e1'), 'alice', 'checked the passport') \gset
DO $$
DECLARE e integration.ledger; j integration.sync_job; it integration.sync_item; ev integration.ledger_event;
BEGIN
  SELECT * INTO e FROM integration.ledger WHERE ledger_id = pg_temp.id('e1');
  ASSERT e.ledger_status = 'Certified' AND e.is_applied AND e.applied_at IS NOT NULL AND e.certified_at IS NOT NULL;
  ASSERT e.certified_by = (SELECT user_id FROM integration.app_user WHERE user_name = 'alice');
  ASSERT pg_temp.val('00000000-0000-0000-0000-000000000001', 'given_name') = 'Robert';
  SELECT * INTO it FROM integration.sync_item WHERE item_id = e.sync_item_id;
  ASSERT it.item_status = 'Applied' AND it.applied_at IS NOT NULL AND it.process_message LIKE '%certified by alice%';
  SELECT * INTO j FROM integration.sync_job WHERE job_id = e.job_id;
  ASSERT j.items_held = 0 AND j.items_applied = 1, format('counters %s/%s', j.items_held, j.items_applied);
  SELECT * INTO ev FROM integration.ledger_event WHERE ledger_id = e.ledger_id;
  ASSERT ev.from_status = 'Pending' AND ev.to_status = 'Certified' AND ev.actor = 'alice'
         AND ev.notes = 'checked the passport';
  -- hr is the origin, cases has no identifier, legacy is inactive, crm has no subscription.
  ASSERT pg_temp.outbound(e.ledger_id) = 'payroll:PY1:Set:given_name=Robert', pg_temp.outbound(e.ledger_id);
  ASSERT NOT EXISTS (SELECT FROM integration.review_queue WHERE ledger_id = e.ledger_id);
  PERFORM pg_temp.invariant();
END $$;
\echo '  wrong status, unknown entry, users'
SELECT pg_temp.expect_error(format('SELECT integration.certify(%s, ''alice'')', pg_temp.id('e1')),
       'SL011', 'ledger entry % is Certified; only Pending entries can be certified');
SELECT pg_temp.expect_error('SELECT integration.certify(999999, ''alice'')', 'SL010', 'ledger entry 999999 not found');
SELECT pg_temp.expect_error(format('SELECT integration.certify(%s, ''nobody'')', pg_temp.id('e1')),
       'SL020', 'unknown user "nobody"%');
SELECT pg_temp.expect_error(format('SELECT integration.certify(%s, ''bob'')', pg_temp.id('e1')),
       'SL022', 'user "bob" is not a steward');
SELECT pg_temp.expect_error(format('SELECT integration.reject(%s, ''carol'')', pg_temp.id('e1')),
       'SL021', 'user "carol" is inactive');
SELECT pg_temp.expect_error(format('SELECT integration.reject(%s, ''alice'')', pg_temp.id('e1')),
       'SL011', 'ledger entry % is Certified; only Pending entries can be rejected');

\echo 'conflict, force, other pending entries stay pending'
INSERT INTO pg_temp.ids SELECT 'e2', pg_temp.held('00000000-0000-0000-0000-000000000001', 'Field', 'given_name', 'payroll', 'Bobby');
INSERT INTO pg_temp.ids SELECT 'e3', pg_temp.held('00000000-0000-0000-0000-000000000001', 'Field', 'given_name', 'cases', 'Roberta');
UPDATE core.person SET given_name = 'Roberto' WHERE id = '00000000-0000-0000-0000-000000000001';
DO $$ BEGIN
  ASSERT (SELECT has_conflict FROM integration.review_queue WHERE ledger_id = pg_temp.id('e2'));
END $$;
SELECT pg_temp.expect_error(format('SELECT integration.certify(%s, ''alice'')', pg_temp.id('e2')),
       'SL030', 'conflict on ledger entry %: core.person.given_name of % now holds ''Roberto'', but the entry expected ''Robert''%');
DO $$ BEGIN
  ASSERT pg_temp.val('00000000-0000-0000-0000-000000000001', 'given_name') = 'Roberto';
  ASSERT (SELECT ledger_status FROM integration.ledger WHERE ledger_id = pg_temp.id('e2')) = 'Pending';
  ASSERT pg_temp.outbound(pg_temp.id('e2')) = '';
END $$;
SELECT 1 FROM integration.certify(pg_temp.id('e2'), 'alice', 'payroll is right', p_force => true);
DO $$ BEGIN
  ASSERT pg_temp.val('00000000-0000-0000-0000-000000000001', 'given_name') = 'Bobby';
  ASSERT (SELECT notes FROM integration.ledger_event WHERE ledger_id = pg_temp.id('e2'))
         = 'payroll is right; forced over a conflict: the target held ''Roberto'', the entry expected ''Robert''';
  ASSERT (SELECT ledger_status FROM integration.ledger WHERE ledger_id = pg_temp.id('e3')) = 'Pending';
  ASSERT pg_temp.outbound(pg_temp.id('e2')) = 'hr:H1:Set:given_name=Bobby', pg_temp.outbound(pg_temp.id('e2'));
  PERFORM pg_temp.invariant();
END $$;

\echo 'reject a held value'
SELECT 1 FROM integration.reject(pg_temp.id('e3'), 'dave', 'typo');
DO $$
DECLARE e integration.ledger := (SELECT l FROM integration.ledger l WHERE ledger_id = pg_temp.id('e3'));
BEGIN
  ASSERT e.ledger_status = 'Rejected' AND NOT e.is_applied;
  ASSERT pg_temp.val('00000000-0000-0000-0000-000000000001', 'given_name') = 'Bobby';
  ASSERT (SELECT item_status = 'Skipped' AND process_message LIKE '%rejected by dave'
            FROM integration.sync_item WHERE item_id = e.sync_item_id);
  ASSERT (SELECT items_held = 0 AND items_skipped = 1 FROM integration.sync_job WHERE job_id = e.job_id);
  ASSERT (SELECT actor = 'dave' AND notes = 'typo' AND from_status = 'Pending' AND to_status = 'Rejected'
            FROM integration.ledger_event WHERE ledger_id = e.ledger_id);
  ASSERT pg_temp.outbound(e.ledger_id) = '';
END $$;

\echo 'reject an applied value: rolled back and sent out'
INSERT INTO pg_temp.ids SELECT 'e5', pg_temp.applied('00000000-0000-0000-0000-000000000001', 'Field', 'birth_date', 'hr', '1980-02-02', 'Pending');
SELECT 1 FROM integration.reject(pg_temp.id('e5'), 'alice');
DO $$ BEGIN
  ASSERT pg_temp.val('00000000-0000-0000-0000-000000000001', 'birth_date') = '1980-01-01';
  -- The restored value came from outside the ledger: even hr, whose value was
  -- rejected, is told. payroll and cases do not subscribe to birth_date.
  ASSERT pg_temp.outbound(pg_temp.id('e5')) = 'hr:H1:Set:birth_date=1980-01-01', pg_temp.outbound(pg_temp.id('e5'));
  ASSERT (SELECT notes FROM integration.ledger_event WHERE ledger_id = pg_temp.id('e5'))
         = 'target core.person.birth_date of 00000000-0000-0000-0000-000000000001 set back to ''1980-01-01''';
  PERFORM pg_temp.invariant();
END $$;

\echo 'reject after the target changed: left alone'
INSERT INTO pg_temp.ids SELECT 'e6', pg_temp.applied('00000000-0000-0000-0000-000000000001', 'Field', 'birth_date', 'hr', '1990-03-03', 'Pending');
UPDATE core.person SET birth_date = '1991-01-01' WHERE id = '00000000-0000-0000-0000-000000000001';
SELECT 1 FROM integration.reject(pg_temp.id('e6'), 'alice', 'wrong person');
DO $$ BEGIN
  ASSERT pg_temp.val('00000000-0000-0000-0000-000000000001', 'birth_date') = '1991-01-01';
  ASSERT (SELECT ledger_status FROM integration.ledger WHERE ledger_id = pg_temp.id('e6')) = 'Rejected';
  ASSERT (SELECT notes FROM integration.ledger_event WHERE ledger_id = pg_temp.id('e6'))
         LIKE 'wrong person; target left alone: core.person.birth_date of % now holds ''1991-01-01'', not this entry''s value ''1990-03-03''';
  ASSERT pg_temp.outbound(pg_temp.id('e6')) = '';
END $$;
UPDATE core.person SET birth_date = '1980-01-01' WHERE id = '00000000-0000-0000-0000-000000000001';

\echo 'reject a value a later entry wrote again: left alone'
INSERT INTO pg_temp.ids SELECT 'g1', pg_temp.applied('00000000-0000-0000-0000-000000000003', 'Field', 'birth_date', 'hr', '2001-01-01', 'Pending', now() - interval '3 hours');
INSERT INTO pg_temp.ids SELECT 'g2', pg_temp.applied('00000000-0000-0000-0000-000000000003', 'Field', 'birth_date', 'payroll', '2002-02-02', 'Pending', now() - interval '2 hours');
INSERT INTO pg_temp.ids SELECT 'g3', pg_temp.applied('00000000-0000-0000-0000-000000000003', 'Field', 'birth_date', 'cases', '2001-01-01', 'Pending', now() - interval '1 hour');
SELECT 1 FROM integration.reject(pg_temp.id('g1'), 'alice');
DO $$ BEGIN
  ASSERT pg_temp.val('00000000-0000-0000-0000-000000000003', 'birth_date') = '2001-01-01';
  ASSERT (SELECT notes FROM integration.ledger_event WHERE ledger_id = pg_temp.id('g1'))
         = format('target left alone: core.person.birth_date of 00000000-0000-0000-0000-000000000003 is owned by ledger entry %s, not by this entry', pg_temp.id('g3'));
  PERFORM pg_temp.invariant();
END $$;

\echo 'revoke chain'
INSERT INTO pg_temp.ids SELECT 'ra', pg_temp.applied('00000000-0000-0000-0000-000000000002', 'Field', 'given_name', 'hr', 'Ann', 'Certified', now() - interval '3 hours');
INSERT INTO pg_temp.ids SELECT 'rc', pg_temp.applied('00000000-0000-0000-0000-000000000002', 'Field', 'given_name', 'cases', 'Annie', 'Pending', now() - interval '2 hours');
INSERT INTO pg_temp.ids SELECT 'rb', pg_temp.applied('00000000-0000-0000-0000-000000000002', 'Field', 'given_name', 'payroll', 'Anna', 'Certified', now() - interval '1 hour');
SELECT pg_temp.expect_error(format('SELECT integration.revoke(%s, ''alice'')', pg_temp.id('rc')),
       'SL011', 'ledger entry % is Pending; only Certified entries can be revoked');
-- ra does not own the value: revoking it leaves the target alone.
DO $$ BEGIN ASSERT pg_temp.val('00000000-0000-0000-0000-000000000002', 'given_name') = 'Anna'; END $$;
SELECT 1 FROM integration.revoke(pg_temp.id('rb'), 'alice', 'payroll sent a nickname');
DO $$ BEGIN
  ASSERT pg_temp.val('00000000-0000-0000-0000-000000000002', 'given_name') = 'Ann';
  ASSERT (SELECT ledger_status FROM integration.ledger WHERE ledger_id = pg_temp.id('rb')) = 'Revoked';
  -- The restored entry owns the aspect again, ahead of the uncertified 'Annie'.
  ASSERT (SELECT ledger_id FROM integration.aspect_owner
           WHERE target_id = '00000000-0000-0000-0000-000000000002' AND aspect_key = 'given_name') = pg_temp.id('ra');
  ASSERT (SELECT count(*) FROM integration.ledger_event
           WHERE ledger_id = pg_temp.id('ra') AND from_status = 'Certified' AND to_status = 'Certified') = 1;
  ASSERT (SELECT notes FROM integration.ledger_event WHERE ledger_id = pg_temp.id('rb'))
         LIKE format('payroll sent a nickname; target %% set back to ''Ann'' (the value of ledger entry %s)', pg_temp.id('ra'));
  -- 'Ann' came from hr: not echoed there; payroll and cases (identifier K2) get it.
  ASSERT pg_temp.outbound(pg_temp.id('rb')) = 'cases:K2:Set:given_name=Ann payroll:PY2:Set:given_name=Ann',
         pg_temp.outbound(pg_temp.id('rb'));
  PERFORM pg_temp.invariant();
END $$;
SELECT 1 FROM integration.revoke(pg_temp.id('ra'), 'alice');
DO $$ BEGIN
  ASSERT pg_temp.val('00000000-0000-0000-0000-000000000002', 'given_name') IS NULL;
  ASSERT pg_temp.outbound(pg_temp.id('ra'))
         = 'cases:K2:Set:given_name=NULL hr:H2:Set:given_name=NULL payroll:PY2:Set:given_name=NULL',
         pg_temp.outbound(pg_temp.id('ra'));
  PERFORM pg_temp.invariant();
END $$;

\echo 'revoke a value that no longer owns its aspect'
INSERT INTO pg_temp.ids SELECT 'rd', pg_temp.applied('00000000-0000-0000-0000-000000000003', 'Field', 'given_name', 'hr', 'Dan', 'Certified', now() - interval '2 hours');
INSERT INTO pg_temp.ids SELECT 're', pg_temp.applied('00000000-0000-0000-0000-000000000003', 'Field', 'given_name', 'payroll', 'Daniel', 'Certified', now() - interval '1 hour');
SELECT 1 FROM integration.revoke(pg_temp.id('rd'), 'alice');
DO $$ BEGIN
  ASSERT pg_temp.val('00000000-0000-0000-0000-000000000003', 'given_name') = 'Daniel';
  ASSERT (SELECT notes LIKE 'target left alone:%' FROM integration.ledger_event WHERE ledger_id = pg_temp.id('rd'));
  PERFORM pg_temp.invariant();
END $$;

\echo 'record aspect: certify a held delete, reject an applied delete, revoke a certified delete'
INSERT INTO pg_temp.ids SELECT 'd1', pg_temp.held('00000000-0000-0000-0000-000000000003', 'Record', 'record', 'hr', 'deleted');
SELECT 1 FROM integration.certify(pg_temp.id('d1'), 'alice');
DO $$ BEGIN
  ASSERT (SELECT NOT is_active FROM core.person WHERE id = '00000000-0000-0000-0000-000000000003');
  ASSERT (SELECT current_value IS NULL FROM integration.field_provenance
           WHERE target_id = '00000000-0000-0000-0000-000000000003' AND ledger_aspect = 'Record');
END $$;
SELECT 1 FROM integration.revoke(pg_temp.id('d1'), 'alice');
DO $$ BEGIN ASSERT (SELECT is_active FROM core.person WHERE id = '00000000-0000-0000-0000-000000000003'); END $$;
INSERT INTO pg_temp.ids SELECT 'd2', pg_temp.applied('00000000-0000-0000-0000-000000000003', 'Record', 'record', 'hr', 'deleted', 'Pending');
DO $$ BEGIN ASSERT (SELECT NOT is_active FROM core.person WHERE id = '00000000-0000-0000-0000-000000000003'); END $$;
SELECT 1 FROM integration.reject(pg_temp.id('d2'), 'alice');
DO $$ BEGIN ASSERT (SELECT is_active FROM core.person WHERE id = '00000000-0000-0000-0000-000000000003'); END $$;

\echo 'append-only ledger'
SELECT pg_temp.expect_error('DELETE FROM integration.ledger', 'SL001', 'integration.ledger is append-only: DELETE is refused');
SELECT pg_temp.expect_error('DELETE FROM integration.ledger WHERE false', 'SL001', 'integration.ledger is append-only: DELETE is refused');
SELECT pg_temp.expect_error('TRUNCATE integration.ledger CASCADE', 'SL001', 'integration.ledger% is append-only: TRUNCATE is refused');
SELECT pg_temp.expect_error('TRUNCATE integration.sync_job CASCADE', 'SL001', '% is append-only: TRUNCATE is refused');
SELECT pg_temp.expect_error('DELETE FROM integration.ledger_event', 'SL001', 'integration.ledger_event is append-only: DELETE is refused');
SELECT pg_temp.expect_error('TRUNCATE integration.ledger_event', 'SL001', 'integration.ledger_event is append-only: TRUNCATE is refused');
SELECT pg_temp.expect_error('UPDATE integration.ledger_event SET notes = ''x''', 'SL001', 'integration.ledger_event is append-only: UPDATE is refused%');
SELECT pg_temp.expect_error('UPDATE integration.ledger SET notes = ''x''', 'SL001', 'integration.ledger is append-only: UPDATE is refused%');
SELECT pg_temp.expect_error(format('UPDATE integration.ledger SET ledger_status = ''Certified'' WHERE ledger_id = %s', pg_temp.id('e1')),
       'SL001', 'integration.ledger is append-only: UPDATE is refused%');
DO $$
BEGIN
  -- Not even a superuser in replica mode gets past the DELETE refusal.
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    SET LOCAL session_replication_role = replica;
    PERFORM pg_temp.expect_error('DELETE FROM integration.ledger', 'SL001', 'integration.ledger is append-only: DELETE is refused');
    SET LOCAL session_replication_role = origin;
  END IF;

  -- The worker's one update: the staleness clock.
  PERFORM set_config('integration.ledger_writer', 'worker', true);
  UPDATE integration.ledger SET confirmed_at = now() WHERE ledger_id = pg_temp.id('e1');
  PERFORM pg_temp.expect_error(format('UPDATE integration.ledger SET value = ''x'' WHERE ledger_id = %s', pg_temp.id('e1')),
          'SL002', 'integration.ledger is append-only: UPDATE of value is refused (ledger entry %)');
  PERFORM pg_temp.expect_error(format('UPDATE integration.ledger SET value = ''x'', job_id = NULL WHERE ledger_id = %s', pg_temp.id('e1')),
          'SL002', 'integration.ledger is append-only: UPDATE of job_id, value is refused%');
  PERFORM pg_temp.expect_error(format('UPDATE integration.ledger SET ledger_status = ''Pending'' WHERE ledger_id = %s', pg_temp.id('e1')),
          'SL003', 'integration.ledger: status transition Certified → Pending is refused (ledger entry %)');
  PERFORM pg_temp.expect_error(format('UPDATE integration.ledger SET ledger_status = ''Certified'' WHERE ledger_id = %s', pg_temp.id('e3')),
          'SL003', 'integration.ledger: status transition Rejected → Certified is refused%');
  -- A steward function inside the worker's transaction restores the setting.
  PERFORM integration.certify(pg_temp.held('00000000-0000-0000-0000-000000000002', 'Field', 'birth_date', 'hr', '1975-05-05'), 'alice');
  ASSERT current_setting('integration.ledger_writer') = 'worker';
END $$;
DO $$
DECLARE
  held bigint;
BEGIN
  ASSERT (SELECT confirmed_at IS NOT NULL FROM integration.ledger WHERE ledger_id = pg_temp.id('e1'));
  -- After a steward function returns, its own transaction may not update the ledger.
  PERFORM integration.certify(pg_temp.held('00000000-0000-0000-0000-000000000003', 'Field', 'birth_date', 'hr', '1976-06-06'), 'alice');
  ASSERT coalesce(current_setting('integration.ledger_writer', true), '') = '';
  PERFORM pg_temp.expect_error('UPDATE integration.ledger SET notes = ''x''', 'SL001', 'integration.ledger is append-only: UPDATE is refused%');
  -- A failure caught in a savepoint reverts the setting with everything else.
  held := pg_temp.held('00000000-0000-0000-0000-000000000003', 'Field', 'birth_date', 'hr', '1977-07-07');
  UPDATE core.person SET birth_date = '1978-08-08' WHERE id = '00000000-0000-0000-0000-000000000003';
  PERFORM pg_temp.expect_error(format('SELECT integration.certify(%s, ''alice'')', held), 'SL030', 'conflict on ledger entry %');
  ASSERT coalesce(current_setting('integration.ledger_writer', true), '') = '';
  UPDATE core.person SET birth_date = '1976-06-06' WHERE id = '00000000-0000-0000-0000-000000000003';
END $$;
SELECT pg_temp.expect_error('INSERT INTO integration.ledger (target_table, target_id, ledger_aspect, aspect_key, source_system_key, is_applied) VALUES (''core.person'', gen_random_uuid(), ''Field'', ''given_name'', ''hr'', true)',
       '23514', '%ledger_applied_has_applied_at%');

\echo 'reading targets'
SELECT pg_temp.expect_error('SELECT integration.current_value(''core.person'', gen_random_uuid(), ''emial'')', '42703', 'unknown column "emial" on core.person');
SELECT pg_temp.expect_error('SELECT integration.current_value(''core.unregistered'', gen_random_uuid(), ''secret'')', 'SL050', 'core.unregistered is not a registered target table');
SELECT pg_temp.expect_error('SELECT integration.current_value(''integration.ledger'', gen_random_uuid(), ''value'')', 'SL050', '%not a registered target table');
DO $$ BEGIN
  ASSERT integration.current_value('core.person', gen_random_uuid(), 'given_name') IS NULL;
  ASSERT integration.current_value('core.person', '00000000-0000-0000-0000-000000000001', 'record') IS NULL;
  ASSERT integration.current_value('core.person', '00000000-0000-0000-0000-000000000001', 'birth_date') = '1980-01-01';
END $$;

\echo 'provenance_violations sees an out-of-band write'
UPDATE core.person SET given_name = 'Mallory' WHERE id = '00000000-0000-0000-0000-000000000001';
DO $$ BEGIN
  ASSERT (SELECT count(*) FROM integration.provenance_violations()) = 1;
  ASSERT (SELECT current_value = 'Mallory' AND expected_value = 'Bobby' AND ledger_id = pg_temp.id('e2')
            FROM integration.provenance_violations());
END $$;
UPDATE core.person SET given_name = 'Bobby' WHERE id = '00000000-0000-0000-0000-000000000001';

\echo 'views: field_provenance, stale_values'
SELECT 1 FROM integration.certify(pg_temp.held('00000000-0000-0000-0000-000000000002', 'Field', 'given_name', 'hr', 'Hannah'), 'alice');
DO $$
DECLARE
  owner bigint := (SELECT ledger_id FROM integration.ledger WHERE value = 'Hannah');
BEGIN
  ASSERT (SELECT current_value = 'Hannah' AND ledger_id = owner AND ledger_value = 'Hannah' AND source_system_key = 'hr'
                 AND ledger_status = 'Certified' AND certified_by = 'alice' AND certified_at IS NOT NULL AND recorded_at IS NOT NULL
            FROM integration.field_provenance
           WHERE target_id = '00000000-0000-0000-0000-000000000002' AND aspect_key = 'given_name');
  ASSERT NOT EXISTS (SELECT FROM integration.stale_values WHERE ledger_id = owner);
  PERFORM set_config('integration.ledger_writer', 'worker', true);
  UPDATE integration.ledger SET confirmed_at = now() - interval '31 days' WHERE ledger_id = owner;
  ASSERT (SELECT stale_after_days = 30 AND current_value = 'Hannah' AND certified_by = 'alice'
            FROM integration.stale_values WHERE ledger_id = owner);
  -- Only owners are stale: the revoked and the superseded entries are not listed.
  ASSERT (SELECT count(*) FROM integration.stale_values) = 1;
END $$;

\echo 'outbound: reverse mapping, relationships, one job per system per transaction'
BEGIN;
INSERT INTO pg_temp.ids SELECT 'm1', pg_temp.applied('00000000-0000-0000-0000-000000000001', 'Field', 'marital_status', 'hr', 'married', 'Certified');
INSERT INTO pg_temp.ids SELECT 'm2', pg_temp.applied('00000000-0000-0000-0000-000000000002', 'Field', 'marital_status', 'cases', 'single', 'Certified');
INSERT INTO pg_temp.ids SELECT 'm3', pg_temp.applied('00000000-0000-0000-0000-000000000002', 'Field', 'marital_status', 'cases', 'divorced', 'Pending');
INSERT INTO pg_temp.ids SELECT 'l1', pg_temp.applied('00000000-0000-0000-0000-000000000001', 'Relationship', 'employer_id', 'payroll', '00000000-0000-0000-0000-0000000000a1', 'Certified');
INSERT INTO pg_temp.ids SELECT 'l2', pg_temp.applied('00000000-0000-0000-0000-000000000002', 'Relationship', 'employer_id', 'cases', '00000000-0000-0000-0000-0000000000a2', 'Certified');
INSERT INTO pg_temp.ids SELECT 'rj', pg_temp.applied('00000000-0000-0000-0000-000000000001', 'Field', 'birth_date', 'payroll', '1970-01-01', 'Pending');
SELECT 1 FROM integration.reject(pg_temp.id('rj'), 'alice');
DO $$ BEGIN
  ASSERT integration.enqueue_outbound(ARRAY[pg_temp.id('m1'), pg_temp.id('m2')]) = 3;
  ASSERT integration.enqueue_outbound(ARRAY[pg_temp.id('m3'), pg_temp.id('l1'), pg_temp.id('l2'), pg_temp.id('e3')]) = 3;
  ASSERT pg_temp.outbound(pg_temp.id('m1')) = 'payroll:PY1:Set:marital_status=MAR', pg_temp.outbound(pg_temp.id('m1'));
  ASSERT pg_temp.outbound(pg_temp.id('m2')) = 'hr:H2:Set:marital_status=S payroll:PY2:Set:marital_status=2', pg_temp.outbound(pg_temp.id('m2'));
  ASSERT pg_temp.outbound(pg_temp.id('m3')) = 'hr:H2:Set:marital_status=divorced payroll:PY2:Set:marital_status=divorced', pg_temp.outbound(pg_temp.id('m3'));
  -- hr knows org one as HO1; nobody else knows org two: no item for l2.
  ASSERT pg_temp.outbound(pg_temp.id('l1')) = 'hr:H1:Link:employer_id=HO1', pg_temp.outbound(pg_temp.id('l1'));
  ASSERT pg_temp.outbound(pg_temp.id('l2')) = '';
  -- A rejected entry (e3) is never sent.
  ASSERT pg_temp.outbound(pg_temp.id('e3')) = '';
  ASSERT pg_temp.outbound(pg_temp.id('rj')) = 'hr:H1:Set:birth_date=1980-01-01', pg_temp.outbound(pg_temp.id('rj'));
  -- One job per receiver in this transaction (the reject above opened hr's), seq 1..n, totals kept.
  ASSERT (SELECT count(*) FROM integration.sync_job
           WHERE direction = 'Outbound' AND job_key = 'outbound-' || pg_current_xact_id()::text) = 2;
  ASSERT NOT EXISTS (
    SELECT FROM integration.sync_job j
     WHERE j.job_key = 'outbound-' || pg_current_xact_id()::text
       AND (j.job_status <> 'Submitted'
            OR j.items_total <> (SELECT count(*) FROM integration.sync_item i WHERE i.job_id = j.job_id)
            OR (SELECT array_agg(seq ORDER BY seq) FROM integration.sync_item i WHERE i.job_id = j.job_id)
               <> (SELECT array_agg(g::bigint) FROM generate_series(1, j.items_total) g)));
  ASSERT (SELECT items_total FROM integration.sync_job
           WHERE source_system_key = 'hr' AND job_key = 'outbound-' || pg_current_xact_id()::text) = 4;
END $$;
COMMIT;
DO $$ BEGIN
  ASSERT integration.enqueue_outbound(ARRAY[pg_temp.id('m1')]) = 1;
  -- A new transaction, a new job.
  ASSERT (SELECT count(*) FROM integration.sync_job WHERE direction = 'Outbound' AND source_system_key = 'payroll'
           AND items_total = 1 AND job_key = 'outbound-' || pg_current_xact_id()::text) = 1;
  -- The lower-level variant: origin excluded, NULL excludes none.
  ASSERT integration.enqueue_outbound_value('core.person', '00000000-0000-0000-0000-000000000001', 'Field', 'marital_status', 'single', 'payroll', NULL) = 1;
  ASSERT integration.enqueue_outbound_value('core.person', '00000000-0000-0000-0000-000000000001', 'Field', 'marital_status', 'single', NULL, NULL) = 2;
  ASSERT integration.enqueue_outbound_value('core.person', '00000000-0000-0000-0000-000000000001', 'Record', 'record', 'deleted', NULL, NULL) = 0;
  ASSERT integration.enqueue_outbound('{}') = 0;
END $$;

\echo 'connector API: claim, lease expiry, ack'
DO $$
DECLARE
  first_job bigint := (SELECT min(job_id) FROM integration.sync_job WHERE direction = 'Outbound' AND source_system_key = 'payroll');
  j integration.sync_job;
  k integration.sync_job;
BEGIN
  SELECT * INTO j FROM integration.claim_outbound('payroll', 'conn-1', 60);
  ASSERT j.job_id = first_job AND j.job_status = 'Processing' AND j.lease_owner = 'conn-1'
         AND j.attempts = 1 AND j.started_at IS NOT NULL AND j.lease_expires_at > now() + interval '59 seconds';
  SELECT * INTO k FROM integration.claim_outbound('payroll', 'conn-2');
  ASSERT k.job_id > j.job_id;
  ASSERT NOT EXISTS (SELECT FROM integration.claim_outbound('nobody', 'conn-1'));
  -- An expired lease is claimed again.
  UPDATE integration.sync_job SET lease_expires_at = now() - interval '1 second' WHERE job_id = j.job_id;
  SELECT * INTO k FROM integration.claim_outbound('payroll', 'conn-3');
  ASSERT k.job_id = j.job_id AND k.lease_owner = 'conn-3' AND k.attempts = 2;
  PERFORM pg_temp.expect_error(format('SELECT integration.ack_outbound(%s, ''conn-1'')', j.job_id),
          'SL041', format('sync job %s is leased to conn-3, not to conn-1', j.job_id));
  SELECT * INTO k FROM integration.ack_outbound(j.job_id, 'conn-3');
  ASSERT k.job_status = 'Completed' AND k.finished_at IS NOT NULL AND k.items_applied = k.items_total AND k.items_total > 0;
  ASSERT NOT EXISTS (SELECT FROM integration.sync_item WHERE job_id = j.job_id AND (item_status <> 'Applied' OR applied_at IS NULL));
  PERFORM pg_temp.expect_error(format('SELECT integration.ack_outbound(%s)', j.job_id),
          'SL041', format('sync job %s is Completed; only Processing jobs can be acknowledged', j.job_id));
  PERFORM pg_temp.expect_error('SELECT integration.ack_outbound(999999)', 'SL040', 'sync job 999999 not found');
  PERFORM pg_temp.expect_error(format('SELECT integration.ack_outbound(%s)', (SELECT min(job_id) FROM integration.sync_job)),
          'SL041', '% is Inbound; only outbound jobs are acknowledged');
  PERFORM pg_temp.expect_error('SELECT integration.claim_outbound(''payroll'', ''c'', 0)', '22023', 'lease of 0 seconds%');
END $$;

\echo 'requeue_failed'
DO $$
DECLARE
  job bigint;
  j   integration.sync_job;
BEGIN
  INSERT INTO integration.sync_job (source_system_key, job_status, items_total, items_applied, items_failed,
                                    attempts, finished_at, lease_owner, lease_expires_at, last_error)
  VALUES ('hr', 'CompletedWithErrors', 3, 1, 2, 1, now(), 'w1', now(), 'boom')
  RETURNING job_id INTO job;
  INSERT INTO integration.sync_item (job_id, seq, external_key, field_name, new_value, item_status, process_message) VALUES
    (job, 1, 'H1', 'marital_status', 'X', 'Failed', 'no mapping for ''X'''),
    (job, 2, 'H1', 'marital_status', 'Y', 'Failed', 'no mapping for ''Y'''),
    (job, 3, 'H1', 'given_name', 'Z', 'Applied', NULL);
  ASSERT integration.requeue_failed(job) = 2;
  SELECT * INTO j FROM integration.sync_job WHERE job_id = job;
  ASSERT j.job_status = 'Submitted' AND j.finished_at IS NULL AND j.lease_owner IS NULL AND j.lease_expires_at IS NULL
         AND j.run_after IS NULL AND j.items_failed = 0 AND j.attempts = 0 AND j.last_error IS NULL;
  ASSERT (SELECT count(*) FROM integration.sync_item WHERE job_id = job AND item_status = 'Pending' AND process_message IS NULL) = 2;
  PERFORM pg_temp.expect_error(format('SELECT integration.requeue_failed(%s)', job),
          'SL041', format('sync job %s is Submitted; only finished jobs (Completed, CompletedWithErrors, Failed) can be requeued', job));
  PERFORM pg_temp.expect_error('SELECT integration.requeue_failed(999999)', 'SL040', 'sync job 999999 not found');
  PERFORM pg_temp.expect_error(format('SELECT integration.requeue_failed(%s)',
                                      (SELECT max(job_id) FROM integration.sync_job WHERE direction = 'Outbound')),
          'SL041', '% is Outbound; only inbound jobs can be requeued');
END $$;

DO $$ BEGIN PERFORM pg_temp.invariant(); END $$;
\echo 'stewardship_check: all checks passed'
