-- 001_schema.sql — the integration schema: configuration registries, staging
-- tables, the ledger and its events (SPEC §1).
--
-- Names here are the public interface that upstream systems and stewards program
-- against. Enumerations are CHECK constraints (not enum types) so that adding a
-- value later is a plain constraint swap, not an ALTER TYPE that cannot run in a
-- transaction.

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
  is_active    boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE integration.app_user IS
  'People who act on the ledger; user_name is normally the steward''s database role.';

-- The crosswalk: one external record is linked once to one target record.
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
  -- "one target record may carry one identifier per source"
  CONSTRAINT identifier_one_per_source_and_record
    UNIQUE (source_system_key, target_table, target_id)
);
-- Outbound fan-out and provenance look identifiers up by record.
CREATE INDEX identifier_by_record ON integration.identifier (target_table, target_id);

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

-- ---------------------------------------------------------------------------
-- Processing
-- ---------------------------------------------------------------------------

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
  -- Resubmitting the same upstream batch is idempotent.
  CONSTRAINT sync_job_job_key_unique_per_source UNIQUE (source_system_key, job_key)
);
COMMENT ON COLUMN integration.sync_job.priority IS 'Higher runs first; ties by submitted_at, then job_id.';

-- The claim query: claimable inbound jobs by priority, then age. Processing jobs
-- are in the index too so that expired leases are rescued by the same scan.
CREATE INDEX sync_job_claim ON integration.sync_job (priority DESC, submitted_at, job_id)
  WHERE direction = 'Inbound' AND job_status IN ('Submitted', 'Processing');
-- Connectors claim the oldest outbound job of their own system.
CREATE INDEX sync_job_outbound_claim ON integration.sync_job (source_system_key, submitted_at, job_id)
  WHERE direction = 'Outbound' AND job_status IN ('Draft', 'Submitted', 'Processing');

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
  sync_item_id      bigint REFERENCES integration.sync_item,
  job_id            bigint REFERENCES integration.sync_job,
  source_timestamp  timestamptz,
  recorded_at       timestamptz NOT NULL DEFAULT now(),
  confirmed_at      timestamptz,
  certified_at      timestamptz,
  certified_by      bigint REFERENCES integration.app_user,
  notes             text,
  -- Exactly once in effect: an item never gets a second ledger row, not even
  -- when its job is rescued after a crash.
  CONSTRAINT ledger_one_row_per_item UNIQUE (sync_item_id)
);
COMMENT ON COLUMN integration.ledger.value IS
  'The value as written: canonical code, cast by PostgreSQL to the column type and back to text.';
COMMENT ON COLUMN integration.ledger.applied_at IS
  'When the value was written to the target; the latest applied, non-rejected, non-revoked entry owns the current value.';
COMMENT ON COLUMN integration.ledger.confirmed_at IS
  'Last time the owning source re-sent this same value: the staleness clock.';

-- Current owner of an aspect, and the out-of-order check per source.
CREATE INDEX ledger_by_aspect ON integration.ledger (target_table, target_id, aspect_key, applied_at DESC, ledger_id DESC);
CREATE INDEX ledger_by_aspect_source ON integration.ledger (target_table, target_id, aspect_key, source_system_key, source_timestamp DESC);
CREATE INDEX ledger_pending ON integration.ledger (recorded_at) WHERE ledger_status = 'Pending';
CREATE INDEX ledger_by_job ON integration.ledger (job_id);

ALTER TABLE integration.sync_item
  ADD CONSTRAINT sync_item_ledger_fk FOREIGN KEY (ledger_id) REFERENCES integration.ledger;

CREATE TABLE integration.ledger_event (
  event_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ledger_id   bigint NOT NULL REFERENCES integration.ledger,
  from_status text,
  to_status   text NOT NULL,
  actor       text NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  notes       text
);
CREATE INDEX ledger_event_by_ledger ON integration.ledger_event (ledger_id, event_id);
