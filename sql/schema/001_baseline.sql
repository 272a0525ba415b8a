-- 001_baseline.sql — the integration schema's tables, sequences, types and
-- indexes (SPEC §1): the state that releases up to and including the one
-- with migrations 001_schema.sql … 014_observability.sql reached, as one
-- file. A new database starts here; a database those releases migrated is
-- recognised by its migration record and continues from here without
-- running this file (see sql/README.md).
--
-- Versioned files (this one, and every later NNN_*.sql beside it) change
-- the schema: tables, columns, indexes, data backfills. They run once each,
-- in order. Functions, views, triggers, policies and grants are code: they
-- live in sql/code/, one file per concern, and are re-applied whenever they
-- change.
--
-- Names here are the public interface that upstream systems and stewards
-- program against. Enumerations are CHECK constraints (not enum types) so
-- that adding a value later is a plain constraint swap, not an ALTER TYPE
-- that cannot run in a transaction. Columns appear in the order in which
-- the earlier releases added them, so that a database they migrated and a
-- new one have the same row types.

CREATE SCHEMA IF NOT EXISTS integration;

COMMENT ON SCHEMA integration IS
  'syncledger: inbound/outbound synchronisation, crosswalk, governance and the provenance ledger';

-- ---------------------------------------------------------------------------
-- Configuration
-- ---------------------------------------------------------------------------

CREATE TABLE integration.source_system (
  source_system_key text PRIMARY KEY
    CONSTRAINT source_system_key_not_blank CHECK (btrim(source_system_key) <> ''),
  display_name      text NOT NULL,
  login_role        name,
  is_active         boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE integration.source_system IS
  'External systems that submit inbound jobs and receive outbound updates.';

-- Target tables are named "schema.table" with plain lower-case identifiers, so
-- the worker can resolve them against pg_catalog without parsing quoted names.
-- syncledger never writes into its own schema or a system catalogue.
CREATE TABLE integration.target_table (
  target_table  text PRIMARY KEY
    CONSTRAINT target_table_is_schema_qualified_lowercase
      CHECK (target_table ~ '^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$')
    CONSTRAINT target_table_not_a_system_schema
      CHECK (split_part(target_table, '.', 1) NOT IN ('integration', 'pg_catalog', 'information_schema', 'pg_toast')),
  id_column     text NOT NULL DEFAULT 'id',
  active_column text,
  is_active     boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE integration.target_table IS
  'The only tables the worker ever writes. id_column is a uuid key; active_column (boolean) is cleared by Delete items, NULL refuses Delete.';

CREATE TABLE integration.app_user (
  user_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_name    text NOT NULL CONSTRAINT app_user_user_name_unique UNIQUE,
  display_name text,
  email        text,
  is_steward   boolean NOT NULL DEFAULT false,
  is_active    boolean NOT NULL DEFAULT true,
  login_role   name CONSTRAINT app_user_login_role_unique UNIQUE
);
COMMENT ON TABLE integration.app_user IS
  'People who act on the ledger; user_name is normally the steward''s database role.';
COMMENT ON COLUMN integration.app_user.login_role IS
  'The database login role that acts as this user; NULL: the role named user_name.';

-- The crosswalk: one external record is linked once to one target record, and
-- a record carries one identifier per source. The second key is led by the
-- record id: it serves the lookups by record (outbound fan-out, history), and
-- it is no candidate for a lookup by external key (with statistics that
-- still describe a small table, the planner took an index with a (source,
-- table) prefix for key lookups and read every identifier of the source).
CREATE TABLE integration.identifier (
  identifier_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_system_key text NOT NULL REFERENCES integration.source_system,
  target_table      text NOT NULL REFERENCES integration.target_table,
  external_key      text NOT NULL,
  target_id         uuid NOT NULL,
  first_seen_at     timestamptz NOT NULL DEFAULT now(),
  last_seen_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT identifier_source_table_external_key_unique
    UNIQUE (source_system_key, target_table, external_key),
  CONSTRAINT identifier_one_per_source_and_record
    UNIQUE (target_id, target_table, source_system_key)
);

CREATE TABLE integration.commit_policy (
  policy_id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  target_table          text NOT NULL REFERENCES integration.target_table,
  field_name            text,
  commit_mode           text NOT NULL DEFAULT 'OnIngest'
    CONSTRAINT commit_policy_commit_mode_valid CHECK (commit_mode IN ('OnIngest', 'OnCertify')),
  authoritative_sources text[] NOT NULL DEFAULT '{}',
  auto_certify          boolean NOT NULL DEFAULT false,
  stale_after_days      integer
    CONSTRAINT commit_policy_stale_after_days_positive CHECK (stale_after_days > 0),
  code_list             text,
  min_confidence        numeric
    CONSTRAINT commit_policy_min_confidence_range CHECK (min_confidence BETWEEN 0 AND 1),
  CONSTRAINT commit_policy_table_field_unique UNIQUE NULLS NOT DISTINCT (target_table, field_name)
);
COMMENT ON COLUMN integration.commit_policy.field_name IS
  'NULL = the record-level policy (creation, deletion).';
COMMENT ON COLUMN integration.commit_policy.authoritative_sources IS
  'Ordered, highest precedence first; empty = all sources equal; unlisted sources rank after all listed ones.';

CREATE TABLE integration.value_map (
  map_id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_system_key    text NOT NULL REFERENCES integration.source_system,
  code_list            text NOT NULL,
  source_code          text NOT NULL,
  source_label         text,
  canonical_code_value text NOT NULL,
  confidence           numeric NOT NULL DEFAULT 1
    CONSTRAINT value_map_confidence_range CHECK (confidence BETWEEN 0 AND 1),
  CONSTRAINT value_map_source_list_code_unique UNIQUE (source_system_key, code_list, source_code)
);
-- Outbound translates canonical values back to each system's code.
CREATE INDEX value_map_reverse ON integration.value_map (source_system_key, code_list, canonical_code_value);

CREATE TABLE integration.subscription (
  subscription_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_system_key text NOT NULL REFERENCES integration.source_system,
  target_table      text NOT NULL REFERENCES integration.target_table,
  field_names       text[],
  CONSTRAINT subscription_source_table_unique UNIQUE (source_system_key, target_table)
);
COMMENT ON COLUMN integration.subscription.field_names IS 'NULL = all fields.';

-- Bumped by every change to the configuration the worker caches (a trigger
-- on each configuration table, sql/code/targets.sql); the worker checks it in
-- every chunk transaction and reloads when it moved.
CREATE TABLE integration.config_version (
  singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT config_version_one_row CHECK (singleton),
  version   bigint  NOT NULL
);
INSERT INTO integration.config_version (singleton, version) VALUES (true, 1);

-- ---------------------------------------------------------------------------
-- Processing
-- ---------------------------------------------------------------------------

-- submit_seq numbers jobs in the order they became Submitted (a Draft job
-- gets a new number when its upstream flips it). Together with sync_item.seq
-- it is what "a later submission" means in SPEC §2 (Out of order).
CREATE SEQUENCE integration.job_submit_seq AS bigint;

-- No foreign key to source_system on purpose: a job from an unknown source is
-- accepted and its items fail with a message that says so (SPEC §1).
CREATE TABLE integration.sync_job (
  job_id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  source_system_key text NOT NULL,
  direction         text NOT NULL DEFAULT 'Inbound'
    CONSTRAINT sync_job_direction_valid CHECK (direction IN ('Inbound', 'Outbound')),
  entity_type       text,
  job_status        text NOT NULL DEFAULT 'Submitted'
    CONSTRAINT sync_job_status_valid CHECK (job_status IN
      ('Draft', 'Submitted', 'Processing', 'Completed', 'CompletedWithErrors', 'Failed', 'Cancelled')),
  job_key           text,
  priority          integer NOT NULL DEFAULT 0,
  submitted_at      timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  finished_at       timestamptz,
  attempts          integer NOT NULL DEFAULT 0,
  lease_owner       text,
  lease_expires_at  timestamptz,
  run_after         timestamptz,
  last_error        text,
  items_total       integer NOT NULL DEFAULT 0,
  items_applied     integer NOT NULL DEFAULT 0,
  items_held        integer NOT NULL DEFAULT 0,
  items_skipped     integer NOT NULL DEFAULT 0,
  items_failed      integer NOT NULL DEFAULT 0,
  submit_seq        bigint NOT NULL DEFAULT nextval('integration.job_submit_seq'),
  claim_token       uuid,
  outbound_txid     xid8,
  -- Resubmitting the same upstream batch is idempotent.
  CONSTRAINT sync_job_job_key_unique_per_source UNIQUE (source_system_key, job_key)
);
ALTER SEQUENCE integration.job_submit_seq OWNED BY integration.sync_job.submit_seq;
COMMENT ON COLUMN integration.sync_job.priority IS 'Higher runs first; ties by submitted_at, then job_id.';
COMMENT ON COLUMN integration.sync_job.submit_seq IS
  'Submission order: assigned when the job becomes Submitted. With sync_item.seq, what "a later submission" means.';
COMMENT ON COLUMN integration.sync_job.claim_token IS
  'Fencing token of the claim that holds the job (NULL when unclaimed); every worker statement about the job checks it.';
COMMENT ON COLUMN integration.sync_job.outbound_txid IS
  'Outbound jobs: the transaction that opened the job (one job per receiving system per transaction).';

-- The claim: claimable inbound jobs by priority, then age. Processing jobs
-- are in the index too so that expired leases are rescued by the same scan.
CREATE INDEX sync_job_claim ON integration.sync_job (priority DESC, submitted_at, job_id)
  WHERE direction = 'Inbound' AND job_status IN ('Submitted', 'Processing');
-- Connectors claim the oldest outbound job of their own system.
CREATE INDEX sync_job_outbound_claim ON integration.sync_job (source_system_key, submitted_at, job_id)
  WHERE direction = 'Outbound' AND job_status IN ('Draft', 'Submitted', 'Processing');
-- The jobs a claim holds.
CREATE INDEX sync_job_by_claim ON integration.sync_job (claim_token) WHERE claim_token IS NOT NULL;
-- One outbound job per receiving system per writer transaction, found by a
-- column that upstreams cannot write (SPEC §6).
CREATE UNIQUE INDEX sync_job_outbound_per_transaction ON integration.sync_job (source_system_key, outbound_txid)
  WHERE direction = 'Outbound' AND outbound_txid IS NOT NULL;
-- Retention: finished jobs by age.
CREATE INDEX sync_job_finished_by_age ON integration.sync_job ((coalesce(finished_at, submitted_at)), job_id)
  WHERE job_status IN ('Completed', 'CompletedWithErrors', 'Failed', 'Cancelled');
-- Metrics and status: open jobs by status, and those that gave up, from the
-- index alone; also the leases per worker (job_status = 'Processing').
CREATE INDEX sync_job_open_by_status ON integration.sync_job (direction, job_status)
  WHERE job_status IN ('Draft', 'Submitted', 'Processing', 'Failed');

CREATE TABLE integration.sync_item (
  item_id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  job_id           bigint NOT NULL REFERENCES integration.sync_job,
  seq              bigint NOT NULL DEFAULT 0,
  external_key     text
    CONSTRAINT sync_item_external_key_required CHECK (coalesce(external_key ~ '[^[:space:]]', false)),
  target_table     text,
  operation        text NOT NULL DEFAULT 'Set'
    CONSTRAINT sync_item_operation_valid CHECK (operation IN ('Set', 'Link', 'Delete')),
  field_name       text,
  new_value        text,
  source_timestamp timestamptz,
  target_id        uuid,
  item_status      text NOT NULL DEFAULT 'Pending'
    CONSTRAINT sync_item_status_valid CHECK (item_status IN ('Pending', 'Applied', 'Held', 'Skipped', 'Failed')),
  applied_at       timestamptz,
  process_message  text,
  -- Not a foreign key: ledger rows are never deleted, and verify_ledger
  -- reports an item whose entry is missing.
  ledger_id        bigint,
  CONSTRAINT sync_item_field_name_required_for_set_and_link
    CHECK (operation = 'Delete' OR coalesce(field_name ~ '[^[:space:]]', false))
);
COMMENT ON COLUMN integration.sync_item.seq IS 'Order within the job; ties by item_id.';
COMMENT ON COLUMN integration.sync_item.target_id IS
  'Input: optional hint linking a new external key to an existing record. Result: the resolved record.';

-- The worker loads a job's pending items in order, a chunk at a time.
CREATE INDEX sync_item_pending ON integration.sync_item (job_id, seq, item_id) WHERE item_status = 'Pending';
-- Counting a job's results and listing its items.
CREATE INDEX sync_item_by_job_status ON integration.sync_item (job_id, item_status);
-- Failed items waiting for a fix and integration.requeue_failed(job_id).
CREATE INDEX sync_item_failed ON integration.sync_item (job_id) WHERE item_status = 'Failed';

-- ---------------------------------------------------------------------------
-- The ledger
-- ---------------------------------------------------------------------------

-- The order in which values are applied to their aspect (SPEC §2, Who owns a
-- value), taken while the writer holds the target row's lock.
CREATE SEQUENCE integration.apply_seq AS bigint;

-- The ledger outlives the staging rows it came from: job_id and sync_item_id
-- keep naming them after retention has removed them, so they are not
-- foreign keys.
CREATE TABLE integration.ledger (
  ledger_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  target_table      text NOT NULL,
  target_id         uuid NOT NULL,
  ledger_aspect     text NOT NULL
    CONSTRAINT ledger_aspect_valid CHECK (ledger_aspect IN ('Field', 'Record', 'Relationship')),
  aspect_key        text NOT NULL,
  source_system_key text NOT NULL,
  ledger_status     text NOT NULL DEFAULT 'Pending'
    CONSTRAINT ledger_status_valid CHECK (ledger_status IN ('Pending', 'Certified', 'Rejected', 'Revoked')),
  value             text,
  previous_value    text,
  is_applied        boolean NOT NULL DEFAULT false,
  applied_at        timestamptz,
  sync_item_id      bigint,
  job_id            bigint,
  source_timestamp  timestamptz,
  recorded_at       timestamptz NOT NULL DEFAULT now(),
  confirmed_at      timestamptz,
  certified_at      timestamptz,
  certified_by      bigint REFERENCES integration.app_user,
  notes             text,
  chain_seq         bigint NOT NULL,
  row_hash          bytea NOT NULL,
  chain_hash        bytea NOT NULL,
  apply_seq         bigint,
  -- Exactly once in effect: an item never gets a second ledger row, not even
  -- when its job is rescued after a crash.
  CONSTRAINT ledger_one_row_per_item UNIQUE (sync_item_id),
  CONSTRAINT ledger_applied_has_applied_at CHECK (NOT is_applied OR applied_at IS NOT NULL),
  CONSTRAINT ledger_applied_has_apply_seq CHECK (NOT is_applied OR apply_seq IS NOT NULL)
);
COMMENT ON COLUMN integration.ledger.value IS
  'The value as written: canonical code, cast by PostgreSQL to the column type and back to text.';
COMMENT ON COLUMN integration.ledger.applied_at IS
  'When the value was written to the target (for people; ownership is ordered by apply_seq).';
COMMENT ON COLUMN integration.ledger.confirmed_at IS
  'Last time the owning source re-sent this same value: the staleness clock.';
COMMENT ON COLUMN integration.ledger.chain_seq IS 'Position in its target record''s chain (ledger rows and events together).';
COMMENT ON COLUMN integration.ledger.row_hash IS 'SHA-256 of the entry''s immutable content (integration.entry_digest).';
COMMENT ON COLUMN integration.ledger.chain_hash IS
  'The link that sealed the entry: SHA-256(previous link || row_hash of each element it sealed).';
COMMENT ON COLUMN integration.ledger.apply_seq IS
  'Order in which values were applied to their aspect, taken while the target row was locked: the highest applied, non-rejected, non-revoked entry owns the aspect.';

-- Ownership walks an aspect's entries by apply_seq; the steward history reads
-- a record's entries. Held entries of one source are found for folding.
CREATE INDEX ledger_by_aspect ON integration.ledger (target_table, target_id, aspect_key, apply_seq);
CREATE INDEX ledger_held ON integration.ledger (target_table, target_id, aspect_key, source_system_key)
  WHERE ledger_status = 'Pending' AND NOT is_applied;
CREATE INDEX ledger_pending ON integration.ledger (recorded_at) WHERE ledger_status = 'Pending';
-- The review backlog per table and the age of its oldest entry, from the index alone.
CREATE INDEX ledger_pending_by_table ON integration.ledger (target_table, recorded_at) WHERE ledger_status = 'Pending';
CREATE INDEX ledger_by_job ON integration.ledger (job_id);

CREATE TABLE integration.ledger_event (
  event_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ledger_id   bigint NOT NULL REFERENCES integration.ledger,
  from_status text,
  to_status   text NOT NULL,
  actor       text NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  notes       text,
  acting_role name NOT NULL DEFAULT session_user,
  apply_seq   bigint,
  chain_seq   bigint NOT NULL,
  row_hash    bytea NOT NULL,
  chain_hash  bytea NOT NULL
);
COMMENT ON COLUMN integration.ledger_event.actor IS
  'The app_user acted for (user_name), or policy / worker.';
COMMENT ON COLUMN integration.ledger_event.acting_role IS
  'The database login role (session_user) whose session caused the event.';
COMMENT ON COLUMN integration.ledger_event.apply_seq IS
  'When the event (re)applied the entry''s value to the target: the apply sequence it took.';
CREATE INDEX ledger_event_by_ledger ON integration.ledger_event (ledger_id, event_id);

-- Per target record: how long its chain is and its newest link (the chain is
-- described in sql/code/ledger_guard.sql).
CREATE TABLE integration.ledger_chain (
  target_table text   NOT NULL,
  target_id    uuid   NOT NULL,
  length       bigint NOT NULL,
  head         bytea  NOT NULL,
  PRIMARY KEY (target_table, target_id)
);
COMMENT ON TABLE integration.ledger_chain IS
  'Head of each target record''s ledger chain: its length and newest link (see sql/code/ledger_guard.sql).';

-- "Newer" (SPEC §2, Out of order): per aspect and source, the newest
-- statement that source made about it, whether or not it produced an entry
-- (sql/code/aspects.sql says how it is read and written).
CREATE TABLE integration.source_order (
  target_table      text   NOT NULL,
  target_id         uuid   NOT NULL,
  aspect_key        text   NOT NULL,
  source_system_key text   NOT NULL,
  ts_max            timestamptz,
  ts_submit         bigint,
  ts_seq            bigint,
  any_submit        bigint NOT NULL,
  any_seq           bigint NOT NULL,
  nots_submit       bigint,
  nots_seq          bigint,
  PRIMARY KEY (target_table, target_id, aspect_key, source_system_key)
);
COMMENT ON TABLE integration.source_order IS
  'Per aspect and source: the newest statement (source_timestamp, submission) that source made about it; see sql/code/aspects.sql.';

-- ---------------------------------------------------------------------------
-- Types
-- ---------------------------------------------------------------------------

-- One value to send outbound (sql/code/outbound.sql).
CREATE TYPE integration.outbound_value AS (
  target_table  text,
  target_id     uuid,
  ledger_aspect text,    -- Field or Relationship; Record values are not sent
  aspect_key    text,    -- the column
  value         text,    -- canonical value; for Relationship the related record's uuid
  origin_source text,    -- the system the value came from: never sent back there (NULL = none)
  ledger_id     bigint   -- the entry whose action produced the item
);

-- ---------------------------------------------------------------------------
-- Privileges that are part of the tables
-- ---------------------------------------------------------------------------

-- Row-level security on the staging tables (the policies are code:
-- sql/code/roles.sql).
ALTER TABLE integration.sync_job ENABLE ROW LEVEL SECURITY;
ALTER TABLE integration.sync_item ENABLE ROW LEVEL SECURITY;
